"""The error names a `retry` or `catch` can match, and a check of the names a spec writes.

`States.*` names are Step Functions' own, a closed set: an unknown one can never
match and is an error. An integration's errors are `<Prefix>.<Exception>`
(`SageMaker.AmazonSageMakerException`, `Batch.ServerException`): the exceptions
of the API the step calls (from botocore's model, with and without the
`Exception` suffix the Java SDK adds) plus the service's general exception,
both named by the step's kind (`StepKind.error_prefix`, `general_error`); an
unknown one draws a warning, since AWS may add names. Any other name is the
user's own (a Lambda function's error type): it is questioned only when it
looks like a misspelt known name.
"""

from __future__ import annotations

import difflib
from functools import cache

from .steps import KINDS

# Step Functions' own error names (the Amazon States Language and AWS's error-handling page).
STATES_ERRORS = (
    "States.ALL",
    "States.BranchFailed",
    "States.DataLimitExceeded",
    "States.ExceedToleratedFailureThreshold",
    "States.HeartbeatTimeout",
    "States.Http.Socket",
    "States.IntrinsicFailure",
    "States.ItemReaderFailed",
    "States.NoChoiceMatched",
    "States.ParameterPathFailure",
    "States.Permissions",
    "States.QueryEvaluationError",
    "States.ResultPathMatchFailure",
    "States.ResultWriterFailed",
    "States.Runtime",
    "States.TaskFailed",
    "States.Timeout",
)
_CLIENT_ERRORS = ("SdkClientException", "Unknown")  # what the integrations raise when the call itself fails


def applies_to(name: str, step_type: str) -> bool:
    """Whether a step of this type can raise the error: Step Functions' own errors, its own
    integration's, and any name of the user's own (no integration prefix)."""
    prefix = name.split(".", 1)[0]
    if name.startswith("States.") or prefix not in _prefixes():
        return True
    return KINDS[step_type].error_prefix == prefix


@cache
def _prefixes() -> frozenset[str]:
    return frozenset(kind.error_prefix for kind in KINDS.values() if kind.error_prefix)


@cache
def integration_errors(step_type: str) -> frozenset[str]:
    """The error names the integration of a step type raises."""
    from .service_models import error_shapes

    kind = KINDS[step_type]
    if kind.error_prefix is None:
        return frozenset()
    names = {kind.general_error, *_CLIENT_ERRORS}
    if kind.polling is not None:  # the step's own, when the work it polls ends badly
        names.update({*kind.polling.failed.values(), kind.polling.timed_out})
    for name in error_shapes(step_type):
        names.update({name, name.removesuffix("Exception") + "Exception"})
    return frozenset(f"{kind.error_prefix}.{name}" for name in names)


def name_problem(name: str, step_types: frozenset[str]) -> tuple[bool, str, str | None] | None:
    """(is an error, what is wrong, hint) for an error name in a retry or catch of these step types."""
    if name.startswith("States."):
        if name not in STATES_ERRORS:
            return True, f"{name!r} is not an error Step Functions raises", _closest(name, STATES_ERRORS)
        return None
    known = frozenset().union(*(integration_errors(t) for t in step_types))
    prefix = name.split(".", 1)[0] if "." in name else ""
    of_prefix = frozenset().union(*(integration_errors(t) for t, k in KINDS.items() if k.error_prefix == prefix))
    if of_prefix and name not in of_prefix:
        hint = (  # the steps' own errors first, then the integration's other calls'
            _closest(name, known & of_prefix)
            or _closest(name, of_prefix)
            or f"the {prefix} errors are {', '.join(sorted(of_prefix)[:6])}, ..."
        )
        return False, f"{name!r} is not an error the {prefix} integration is known to raise", hint
    if name not in known:
        every = (*STATES_ERRORS, *known)
        hint = _closest(name, every)
        if hint and name.lower() not in {e.lower() for e in every} | {""}:
            return False, f"{name!r} is not a known error name: if it is a misspelling it never matches", hint
        if hint:
            return False, f"error names are case-sensitive: {name!r} never matches", hint
    return None


def _closest(name: str, choices: frozenset[str] | tuple[str, ...]) -> str | None:
    matches = difflib.get_close_matches(name, list(choices), n=2, cutoff=0.85)
    if not matches:
        lowered = {c.lower(): c for c in choices}
        matches = [lowered[name.lower()]] if name.lower() in lowered else []
    return "did you mean " + " or ".join(f"'{m}'" for m in matches) + "?" if matches else None
