"""Measures of a run: the hypotheses' measures on its event log (hypotheses) and the one
registry of named per-run statistics that sweeps, studies and calibration share
(statistics)."""
