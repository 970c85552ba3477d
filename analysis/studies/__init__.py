"""Studies of the hypotheses: a study file (spec) becomes a plan of runs (plan), run as a
sweep (run), summarised by its statistics (stats) into a report (report); commands
registers ``trustsim study``."""
