"""Moved: ``trustsim.run`` is now ``trustsim.runtime.run`` ``trustsim.runtime.files`` ``trustsim.runtime.provenance`` ``trustsim.engine``. This forwarder
works for one more release and warns where each name lives now."""

from trustsim.moved import forwarder

__getattr__ = forwarder(
    "trustsim.run",
    (
        "trustsim.runtime.run",
        "trustsim.runtime.files",
        "trustsim.runtime.provenance",
        "trustsim.engine",
    ),
)
