"""The Step Functions Data Science SDK's state classes, imported alone and extended.

`import stepfunctions` sets the root logger to ERROR, imports the SageMaker SDK
(deprecation warnings, config INFO lines, a boto3 session) and takes seconds; the
state classes need none of it, so only their modules are loaded (`_import_quietly`).

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
import importlib
import importlib.util
import os
import sys
import types
from collections.abc import Callable
from typing import Any


def _import_quietly() -> Any:
    """The SDK's state classes, without what a compile does not use.

    `import stepfunctions` runs the package's `__init__`: pkg_resources, the SageMaker SDK
    (which makes a boto3 session and prints notices) and every service's steps, about 3.5 s,
    none of which building states needs. The modules that define the states (`steps.states`,
    `steps.choice_rule`, `steps.fields`, `inputs`, `exceptions`) import only each other, so
    they are loaded under their own names with the two parent packages standing in empty
    for the moment; the stand-ins are then removed, and a later `import stepfunctions` (by
    code that wants the whole SDK) runs the real `__init__`, which finds these modules loaded.
    """
    if "stepfunctions.steps.states" not in sys.modules and "stepfunctions" not in sys.modules:
        spec = importlib.util.find_spec("stepfunctions")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("the Step Functions Data Science SDK (stepfunctions) is not installed")
        root = next(iter(spec.submodule_search_locations))
        stand_ins = {"stepfunctions": root, "stepfunctions.steps": os.path.join(root, "steps")}
        for name, path in stand_ins.items():
            package = types.ModuleType(name)
            package.__path__ = [path]
            sys.modules[name] = package
        try:
            importlib.import_module("stepfunctions.steps.states")
            importlib.import_module("stepfunctions.steps.choice_rule")
        finally:
            for name in stand_ins:
                sys.modules.pop(name, None)
    states = sys.modules.get("stepfunctions.steps.states") or importlib.import_module("stepfunctions.steps.states")
    choice_rule = sys.modules.get("stepfunctions.steps.choice_rule") or importlib.import_module(
        "stepfunctions.steps.choice_rule"
    )
    return types.SimpleNamespace(states=states, ChoiceRule=choice_rule.ChoiceRule, **{
        name: getattr(states, name) for name in ("Pass", "Succeed", "Fail", "Wait", "Choice", "Parallel", "Map",
                                                  "Task", "Retry", "Catch", "Graph", "Chain")
    })


_steps = _import_quietly()
_steps.states.to_pascalcase = functools.cache(_steps.states.to_pascalcase)  # a pure function of a field name
ChoiceRule = _steps.ChoiceRule
State = _steps.states.State
_ALLOWED: dict[type, frozenset[str]] = {}


class _Fields:
    """The SDK checks every field against a list it rebuilds from an Enum each time;
    the allowed names are the same for every instance of a class, so keep them."""

    def is_field_allowed(self, field_name: str) -> bool:
        names = _ALLOWED.get(type(self))
        if names is None:
            names = _ALLOWED[type(self)] = frozenset(field.value for field in self.allowed_fields())
        return field_name in names


class Catch(_Fields, _steps.Catch):
    pass


class Succeed(_Fields, _steps.Succeed):
    pass


class Wait(_Fields, _steps.Wait):
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


class Pass(_Rendered, _steps.Pass):
    def to_dict(self) -> dict[str, Any]:
        """The SDK drops a `None` result; `result=None` given explicitly is `"Result": null`."""
        body = super().to_dict()
        if "result" in self.fields and self.fields["result"] is None:
            body["Result"] = None
        return body


class Task(_Rendered, _steps.Task):
    def allowed_fields(self) -> list[Any]:
        return [*super().allowed_fields(), RESULT_SELECTOR]


class Retry(_Fields, _steps.Retry):
    def allowed_fields(self) -> list[Any]:
        return [*super().allowed_fields(), MAX_DELAY_SECONDS, JITTER_STRATEGY]


class Fail(_Fields, _steps.Fail):
    def allowed_fields(self) -> list[Any]:
        return [*super().allowed_fields(), CAUSE_PATH, ERROR_PATH]


Emit = Callable[[], dict[str, Any]]


class Parallel(_Rendered, _steps.Parallel):
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


class Map(_Rendered, _steps.Map):
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


class Choice(_Fields, _steps.Choice):
    """A Choice state whose rules' targets may be set after the rule is added."""

    def set_rule_target(self, index: int, target: Any) -> None:
        self.choices[index][1] = target
