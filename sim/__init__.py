"""trustsim: customer-salesperson trust in a 差序格局 ring network (see docs/ODD.md)."""

import hashlib
import os
from pathlib import Path

__version__ = "0.1.0"


def numba_cache_dir(here: Path = Path(__file__).parent) -> str:
    """A numba cache folder keyed by the source of this package.

    Numba only checks the timestamp of the file a function lives in, so a change to a
    rule in another file could leave a stale compiled kernel; keying the folder by a hash
    of every source file rules that out.
    """
    digest = hashlib.sha256()
    # every model module, not a hand-kept list of those with compiled code: a module that
    # gains a compiled function (or a constant one uses) cannot be forgotten
    for path in sorted(here.rglob("*.py")):  # subpackages too: the core lives in core/
        digest.update(path.relative_to(here).as_posix().encode() + path.read_bytes())
    root = Path(os.environ.get("TRUSTSIM_CACHE", Path.home() / ".cache" / "trustsim"))
    return str(root / "numba" / digest.hexdigest()[:16])


if "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = numba_cache_dir()


def preload_blas_probe() -> None:
    """Make numba's start-up check for BLAS cheap; call before the first compiled function.

    When numba sets up its compiler it imports ``scipy.linalg.cython_blas`` to learn
    whether BLAS is there, and importing that one extension module first runs
    ``scipy.linalg``'s whole Python API (about 0.15 s, a tenth of `trustsim run`'s start),
    which no trustsim kernel uses. Loading the extension module by itself gives numba the
    very module it asks for; ``import scipy.linalg`` later still works as usual. Does
    nothing when scipy.linalg is already imported or scipy is missing.
    """
    import sys
    from importlib.machinery import PathFinder
    from importlib.util import find_spec, module_from_spec

    name = "scipy.linalg.cython_blas"
    if "scipy.linalg" in sys.modules or name in sys.modules:
        return
    try:
        package = find_spec("scipy.linalg")  # imports scipy itself, which is light
    except ImportError:
        return
    spec = package and PathFinder.find_spec(name, package.submodule_search_locations)
    if spec is None or spec.loader is None:
        return
    module = module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:  # numba then imports it its own way, as before
        del sys.modules[name]


# The Python API: the names a script or notebook needs, importable from the top level.
# Loaded on first use, so that `import trustsim` (and the command line's start) stays light.
API = {
    "Scenario": "trustsim.params",
    "load_scenario": "trustsim.loader",
    "simulate": "trustsim.runtime.run",
    "RunResult": "trustsim.runtime.run",
    "write_run": "trustsim.runtime.run",
    "make_model": "trustsim.engine",
    "TrustModel": "trustsim.mesa_model.model",
    "CoreModel": "trustsim.core.model",
    "run_sweep": "trustsim.analysis.sweep.driver",
    "load_runs": "trustsim.analysis.sweep.driver",
    "load_timeseries": "trustsim.analysis.sweep.driver",
    "run_studies": "trustsim.analysis.studies.run",
    "calibrate": "trustsim.analysis.calibration.abc",
}
__all__ = [  # noqa: RUF022 (the API's order)
    "__version__",
    "numba_cache_dir",
    "preload_blas_probe",
    "Scenario",
    "load_scenario",
    "simulate",
    "RunResult",
    "write_run",
    "make_model",
    "TrustModel",
    "CoreModel",
    "run_sweep",
    "load_runs",
    "load_timeseries",
    "run_studies",
    "calibrate",
]


def __getattr__(name: str) -> object:
    if name in API:
        import importlib

        value = getattr(importlib.import_module(API[name]), name)
        globals()[name] = value  # found once, then an ordinary attribute
        return value
    raise AttributeError(f"module 'trustsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(API))
