"""The fast engine: the schedule of docs/ODD.md §3 as numba loops over arrays.

layout (the relationship record), relstore (per-customer blocks of records), state (the
arrays a step reads and changes), relations and eventlog (helpers of the step), step
(the compiled schedule), model (CoreModel, the driver). Importing this package loads no
numba: the memory guard reads ``layout`` before any compiled code is needed.
"""
