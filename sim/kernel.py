"""Moved: ``trustsim.kernel`` is now ``trustsim.core.model`` ``trustsim.core.step`` ``trustsim.core.state``. This forwarder
works for one more release and warns where each name lives now."""

from trustsim.moved import forwarder

__getattr__ = forwarder(
    "trustsim.kernel",
    (
        "trustsim.core.model",
        "trustsim.core.step",
        "trustsim.core.state",
    ),
)
