"""The Step Functions Data Science SDK, imported quietly and extended.

`stepfunctions` 2.3.0 sets the root logger to ERROR on import, and the
SageMaker SDK it imports prints deprecation warnings and config INFO lines;
this module restores the logger and keeps that noise from users.

The SDK's classes are used as they are, with four extensions: ResultSelector
on Task, Parallel and Map; MaxDelaySeconds and JitterStrategy on Retry;
CausePath and ErrorPath on Fail; and Parallel branches / Map iterators that
are emitted from the scope the builder collected, instead of the SDK's
recursive Graph walk, which hits Python's recursion limit on long chains and
revisits every state (quadratic).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from typing import Any

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")


def _import_quietly() -> Any:
    root = logging.getLogger()
    level = root.level
    logging.getLogger("sagemaker.config").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import stepfunctions.steps as steps
    root.setLevel(level)
    return steps


_steps = _import_quietly()
ChoiceRule = _steps.ChoiceRule
Catch = _steps.Catch
Pass = _steps.Pass
Succeed = _steps.Succeed
Wait = _steps.Wait
State = _steps.states.State


class _Field:
    """A field the SDK does not know; `value` is its snake_case name."""

    def __init__(self, value: str) -> None:
        self.value = value


RESULT_SELECTOR = _Field("result_selector")
MAX_DELAY_SECONDS = _Field("max_delay_seconds")
JITTER_STRATEGY = _Field("jitter_strategy")
CAUSE_PATH = _Field("cause_path")
ERROR_PATH = _Field("error_path")


class Task(_steps.Task):
    def allowed_fields(self) -> list[Any]:
        return [*super().allowed_fields(), RESULT_SELECTOR]


class Retry(_steps.Retry):
    def allowed_fields(self) -> list[Any]:
        return [*super().allowed_fields(), MAX_DELAY_SECONDS, JITTER_STRATEGY]


class Fail(_steps.Fail):
    def allowed_fields(self) -> list[Any]:
        return [*super().allowed_fields(), CAUSE_PATH, ERROR_PATH]


Emit = Callable[[], dict[str, Any]]


class Parallel(_steps.Parallel):
    """A Parallel state whose branches are emitted by the builder's scopes."""

    def __init__(self, state_id: str, branches: list[Emit], **kwargs: Any) -> None:
        super().__init__(state_id, **kwargs)
        self.emit_branches = branches

    def allowed_fields(self) -> list[Any]:
        return [*super().allowed_fields(), RESULT_SELECTOR]

    def to_dict(self) -> dict[str, Any]:
        result = State.to_dict(self)
        result["Branches"] = [emit() for emit in self.emit_branches]
        return result


class Map(_steps.Map):
    """A Map state whose iterator is emitted by the builder's scope."""

    def __init__(self, state_id: str, iterator: Emit, **kwargs: Any) -> None:
        super().__init__(state_id, **kwargs)
        self.emit_iterator = iterator

    def allowed_fields(self) -> list[Any]:
        return [*super().allowed_fields(), RESULT_SELECTOR]

    def to_dict(self) -> dict[str, Any]:
        result = State.to_dict(self)
        result["Iterator"] = self.emit_iterator()
        return result


class Choice(_steps.Choice):
    """A Choice state whose rules' targets may be set after the rule is added."""

    def set_rule_target(self, index: int, target: Any) -> None:
        self.choices[index][1] = target
