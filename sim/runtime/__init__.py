"""Running and storing: simulate a scenario on an engine (run), write its files atomically
(files) with provenance (provenance), guard memory before allocating (memory), and report
it in the terminal and a figure (report, drawer)."""
