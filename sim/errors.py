"""Errors a user can act on, and the exit status each one ends with.

Library code raises these; only :mod:`trustsim.cli` turns them into a line on stderr and an
exit status. Keeping them here lets the analysis and classroom code raise them without
importing the CLI.
"""

from __future__ import annotations

import importlib
from types import ModuleType

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class TrustsimError(Exception):
    """Base of the errors that end a command with one line and a known status."""

    exit_status = EXIT_FAILED


class ScenarioError(TrustsimError):
    """Bad input; ``problems`` holds one human-readable line per problem."""

    exit_status = EXIT_BAD_INPUT

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class UsageError(TrustsimError):
    """A bad command-line value that argparse itself cannot check."""

    exit_status = EXIT_BAD_INPUT


class MissingExtra(UsageError):
    """An optional part of trustsim whose packages are not installed."""


# Which optional-dependency group (pyproject ``[project.optional-dependencies]``) brings
# which top-level module; the message names the group to install.
EXTRAS = {
    "solara": "classroom",
    "imageio": "classroom",
    "dask": "cluster",
    "distributed": "cluster",
    "playwright": "test",
    "pyabc": "calibration",
}


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise a one-line :class:`MissingExtra` naming the extra."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = (exc.name or module).split(".")[0]
        extra = EXTRAS.get(top) or EXTRAS.get(module.split(".")[0])
        if extra is None:
            raise
        raise MissingExtra(
            f"{purpose} needs the '{extra}' extra ({top} is not installed): "
            f"pip install 'trustsim[{extra}]'"
        ) from None
