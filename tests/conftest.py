"""pytest fixtures shared by the tests (helpers live in tests/helpers.py)."""

from pathlib import Path

import pytest

from tests.helpers import ROOT


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
