"""Moved: ``trustsim.analysis.study`` is now ``trustsim.analysis.studies.spec``. This forwarder
works for one more release and warns where each name lives now."""

from trustsim.moved import forwarder

__getattr__ = forwarder("trustsim.analysis.study", ("trustsim.analysis.studies.spec",))
