"""Sweeps: an experiment file (experiment) becomes a design (design) of runs, run in
batches (batch) on local or dask workers (executors, warmup), stored in resumable chunks
(chunks) with progress (progress); driver runs it all; sensitivity and plots read it.

Names of the former module ``trustsim.analysis.sweep`` (now ``driver``) are still found
here for one release, with a warning."""

from trustsim.moved import forwarder

__getattr__ = forwarder("trustsim.analysis.sweep", ("trustsim.analysis.sweep.driver",))
