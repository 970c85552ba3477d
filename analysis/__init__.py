"""Experiments on trustsim runs: hypothesis measures, sweeps, sensitivity analysis, plots.

Functions here return pandas DataFrames so that notebooks and the CLI share them.
"""
