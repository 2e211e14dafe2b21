"""Step types, one module each; `KINDS` maps a spec's `type:` to its class."""

from __future__ import annotations

from .base import Expr, StepKind
from .batch import Batch
from .endpoint import Endpoint
from .flow import Choice, Fail, Succeed, Wait
from .invoke import Lambda
from .model_step import ModelKind
from .nested import NestedWorkflow
from .pipeline import Pipeline
from .processing import Processing
from .register import Register
from .sns import Sns
from .training import Training
from .transform import Transform
from .tuning import Tuning

KINDS: dict[str, StepKind] = {
    kind.type: kind
    for kind in (
        Processing(),
        Training(),
        Tuning(),
        Transform(),
        ModelKind(),
        Register(),
        Pipeline(),
        Endpoint(),
        Batch(),
        Lambda(),
        Sns(),
        NestedWorkflow(),
        Choice(),
        Wait(),
        Succeed(),
        Fail(),
    )
}

__all__ = ["KINDS", "Expr", "StepKind"]
