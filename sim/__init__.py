"""trustsim: customer-salesperson trust in a 差序格局 ring network (see docs/ODD.md)."""

import hashlib
import os
from pathlib import Path

__version__ = "0.1.0"


def _numba_cache_dir() -> str:
    """A numba cache folder keyed by the source of this package.

    Numba only checks the timestamp of the file a function lives in, so a change to a
    rule in another file could leave a stale compiled kernel; keying the folder by a hash
    of every source file rules that out.
    """
    digest = hashlib.sha256()
    # every model module, not a hand-kept list of those with compiled code: a module that
    # gains a compiled function (or a constant one uses) cannot be forgotten
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    root = Path(os.environ.get("TRUSTSIM_CACHE", Path.home() / ".cache" / "trustsim"))
    return str(root / "numba" / digest.hexdigest()[:16])


if "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = _numba_cache_dir()
