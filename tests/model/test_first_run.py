"""The first run in a new environment says why it is slow (numba compiling), once."""

from __future__ import annotations

import pytest

from trustsim import jit
from trustsim.core.model import CoreModel
from trustsim.mesa_model.model import TrustModel


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    monkeypatch.setattr(jit, "_told", [])
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize("cls", [CoreModel, TrustModel])
def test_a_cold_cache_is_announced_on_stderr_once(fresh, capsys, cls):
    cls(n_customers=10)
    cls(n_customers=10)
    captured = capsys.readouterr()
    assert captured.err == jit.COMPILING + "\n" and captured.out == ""
    assert "about a minute, once" in jit.COMPILING


def test_a_warm_cache_says_nothing(fresh, capsys):
    (fresh / "trustsim").mkdir(parents=True)
    (fresh / "trustsim" / "rules.uniform-1.py312.nbi").write_bytes(b"")
    CoreModel(n_customers=10)
    assert capsys.readouterr().err == ""
    assert jit.cold_cache(str(fresh)) is False
    assert jit.cold_cache(str(fresh / "elsewhere")) is True
