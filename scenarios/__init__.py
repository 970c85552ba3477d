"""Shipped data of trustsim: scenarios, and in sub-folders experiments, lessons, studies and
calibration targets. Installed as ``trustsim.scenarios`` and read with importlib.resources."""
