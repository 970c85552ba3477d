"""The readable engine: the schedule of docs/ODD.md §3 as Mesa agents (agents) stepped by
a Mesa model (model), in the shape of a Mesa example."""
