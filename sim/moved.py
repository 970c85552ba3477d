"""Old import paths that moved when the package was laid out by layer.

Each old module keeps working for one release as a thin forwarder: looking a name up in
it imports the name from its new module and warns (``DeprecationWarning``) where it now
lives, so a notebook written for the old layout runs and says what to change.
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from collections.abc import Callable


def forwarder(old: str, new: tuple[str, ...]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``old`` that finds each name in the ``new`` modules
    (naming the one that defines it). Submodules of ``old`` (when it is a package) are left to
    the import system."""

    def __getattr__(name: str) -> object:  # noqa: N807 (a module __getattr__)
        if name.startswith("__"):
            raise AttributeError(name)
        if importlib.util.find_spec(old) is not None and _is_submodule(old, name):
            raise AttributeError(name)
        found = [m for m in new if hasattr(importlib.import_module(m), name)]
        if found:
            value = getattr(importlib.import_module(found[0]), name)
            home = getattr(value, "__module__", None)
            module = home if home in found else found[0]  # where it is defined
            warnings.warn(
                f"{old}.{name} moved to {module}.{name}; the old path works for one more release",
                DeprecationWarning,
                stacklevel=2,
            )
            return value
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    return __getattr__


def _is_submodule(package: str, name: str) -> bool:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return False
    return importlib.util.find_spec(f"{package}.{name}") is not None
