"""sfn-build: compile workflow specs into AWS Step Functions state machines.

The pipeline runs one way: load (text to positioned nodes) -> validate (schema,
then meaning) -> model (immutable, resolved) -> plan (dependency graph to
sequences and parallel blocks) -> build (Step Functions SDK states) -> emit
(Amazon States Language JSON).
"""

__version__ = "0.1.0"
