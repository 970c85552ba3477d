"""The Python API: the names a script needs, from the top level, loaded on first use."""

from __future__ import annotations

import subprocess
import sys

import pytest

import trustsim


@pytest.mark.parametrize("name", sorted(trustsim.API))
def test_each_top_level_name_is_the_object_of_its_module(name):
    import importlib

    assert getattr(trustsim, name) is getattr(importlib.import_module(trustsim.API[name]), name)
    assert name in dir(trustsim) and name in trustsim.__all__


def test_importing_trustsim_loads_none_of_the_heavy_libraries():
    heavy = ("pandas", "mesa", "numba", "matplotlib", "pydantic", "trustsim.runtime.run")
    code = f"import sys, trustsim; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.check_output([sys.executable, "-c", code], text=True)
    assert out.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'simulat'"):
        trustsim.simulat  # noqa: B018


def test_all_lists_every_api_name():
    assert set(trustsim.API) <= set(trustsim.__all__)
