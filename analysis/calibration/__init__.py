"""Calibration to published targets: a targets file (targets) is fitted by ABC-SMC (abc);
the posterior's summaries (posterior) and the report (report) are written from it.

Names of the former module ``trustsim.analysis.calibration`` (now ``abc``) are still
found here for one release, with a warning."""

from trustsim.moved import forwarder

__getattr__ = forwarder("trustsim.analysis.calibration", ("trustsim.analysis.calibration.abc",))
