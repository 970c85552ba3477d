"""Moved: ``trustsim.model`` is now ``trustsim.mesa_model.model`` ``trustsim.mesa_model.agents``. This forwarder
works for one more release and warns where each name lives now."""

from trustsim.moved import forwarder

__getattr__ = forwarder(
    "trustsim.model",
    (
        "trustsim.mesa_model.model",
        "trustsim.mesa_model.agents",
    ),
)
