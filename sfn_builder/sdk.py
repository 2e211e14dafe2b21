"""The Step Functions Data Science SDK's state classes, imported alone and extended.

`import stepfunctions` sets the root logger to ERROR, imports the SageMaker SDK
(deprecation warnings, config INFO lines, a boto3 session) and takes seconds; the
state classes need none of it, so only their modules are loaded (`imports.load_alone`).

The SDK's classes are used as they are, with six extensions: cached field
names (its snake_case to PascalCase conversion, and the check of allowed
fields); Parameters that are already rendered (no placeholder walk);
ResultSelector on Task, Parallel and Map; MaxDelaySeconds and JitterStrategy
on Retry; CausePath and ErrorPath on Fail; and Parallel branches / Map
iterators that are emitted from the scope the builder collected, instead of
the SDK's recursive Graph walk, which hits Python's recursion limit on long
chains and revisits every state (quadratic).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .imports import load_alone

# The SDK's state classes, without its package's `__init__` (pkg_resources, the SageMaker SDK and
# every service's steps: seconds, none of which building states needs).
_PARENTS = ("stepfunctions", "stepfunctions.steps")
_states = load_alone("stepfunctions.steps.states", _PARENTS)
_states.to_pascalcase = functools.cache(_states.to_pascalcase)  # a pure function of a field name
ChoiceRule = load_alone("stepfunctions.steps.choice_rule", _PARENTS).ChoiceRule
State = _states.State
_ALLOWED: dict[type, frozenset[str]] = {}


class _Fields:
    """The SDK checks every field against a list it rebuilds from an Enum each time;
    the allowed names are the same for every instance of a class, so keep them."""

    def is_field_allowed(self, field_name: str) -> bool:
        names = _ALLOWED.get(type(self))
        if names is None:
            names = _ALLOWED[type(self)] = frozenset(field.value for field in self.allowed_fields())
        return field_name in names


class Catch(_Fields, _states.Catch):
    pass


class Succeed(_Fields, _states.Succeed):
    pass


class Wait(_Fields, _states.Wait):
    pass


class _Field:
    """A field the SDK does not know; `value` is its snake_case name."""

    def __init__(self, value: str) -> None:
        self.value = value


RESULT_SELECTOR = _Field("result_selector")
MAX_DELAY_SECONDS = _Field("max_delay_seconds")
JITTER_STRATEGY = _Field("jitter_strategy")
CAUSE_PATH = _Field("cause_path")
ERROR_PATH = _Field("error_path")


class _Rendered(_Fields):
    """Parameters arrive rendered by sfn-build: there are no SDK placeholders to
    replace, so the SDK's copy of every Parameters tree is skipped."""

    def _replace_placeholders(self, params: Any) -> Any:
        return params


class Pass(_Rendered, _states.Pass):
    def to_dict(self) -> dict[str, Any]:
        """The SDK drops a `None` result; `result=None` given explicitly is `"Result": null`."""
        body = super().to_dict()
        if "result" in self.fields and self.fields["result"] is None:
            body["Result"] = None
        return body


class Task(_Rendered, _states.Task):
    def allowed_fields(self) -> list[Any]:
        return [*super().allowed_fields(), RESULT_SELECTOR]


class Retry(_Fields, _states.Retry):
    def allowed_fields(self) -> list[Any]:
        return [*super().allowed_fields(), MAX_DELAY_SECONDS, JITTER_STRATEGY]


class Fail(_Fields, _states.Fail):
    def allowed_fields(self) -> list[Any]:
        return [*super().allowed_fields(), CAUSE_PATH, ERROR_PATH]


Emit = Callable[[], dict[str, Any]]


def state_dict(state: Any) -> dict[str, Any]:
    """A state's ASL with `Type` first, as people write it."""
    body = state.to_dict()
    return {"Type": body.pop("Type"), **body}


class Parallel(_Rendered, _states.Parallel):
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


class Map(_Rendered, _states.Map):
    """A Map state whose iterator is emitted by the builder's scope. `distributed` (the SDK predates
    Distributed Maps): the fields of one (ItemReader, ResultWriter, ToleratedFailurePercentage...); its
    iterator is then an ItemProcessor in DISTRIBUTED mode and its Parameters are its ItemSelector."""

    def __init__(
        self, state_id: str, iterator: Emit, distributed: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(state_id, **kwargs)
        self.emit_iterator = iterator
        self.distributed = distributed

    def allowed_fields(self) -> list[Any]:
        return [*super().allowed_fields(), RESULT_SELECTOR]

    def to_dict(self) -> dict[str, Any]:
        result = State.to_dict(self)
        if self.distributed is None:
            result["Iterator"] = self.emit_iterator()
            return result
        if "Parameters" in result:
            result["ItemSelector"] = result.pop("Parameters")
        result.update(self.distributed)
        processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}}
        result["ItemProcessor"] = {**processor, **self.emit_iterator()}
        return result


class Choice(_Fields, _states.Choice):
    """A Choice state whose rules' targets may be set after the rule is added."""

    def set_rule_target(self, index: int, target: Any) -> None:
        self.choices[index][1] = target
