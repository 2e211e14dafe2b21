"""moto's program of a definition built from its JSON, without ANTLR.

moto's parse (module `interpreter`, `two_stage_parse`) lexes and parses the definition's text with
ANTLR in pure Python and then visits the tree (its Preprocessor) into components: about 5 s for each
800 KB part of a split workflow. The definition is JSON, so the components can be made from
`json.loads` directly, the way the visitor makes them: each state's fields become the same
components in a StateProps, and moto's own `_common_state_field_of` makes the state from them.

Only what sfn-build writes in JSONPath is built here (Task, Pass, Choice, Fail, Succeed, Parallel,
Wait and Map states, and their fields); any other state (a Map reading items from S3, a JSONata
state) is parsed alone by moto's parser, and a definition whose escaped strings cannot be told apart
is parsed whole by it. A string keeps its text as written (escapes and all) wherever the visitor
reads the text rather than the value, so both ways give the same program (tests compare them
component by component). Intrinsic functions are made by module `intrinsic_builder`, read as module
`interpreter` has moto read them.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
from moto.stepfunctions.parser.asl.parse import preprocessor as p

from .interpreter import CONTROL_HIDDEN
from .intrinsic_builder import Unsupported as IntrinsicUnsupported
from .intrinsic_builder import build_function


class Unsupported(Exception):
    """What this builder does not make: moto's parser makes it."""


def _by_literal(enum_type: Any) -> dict[str, Any]:
    """An enum of lexer tokens by the text each token stands for (`"States.ALL"` -> StatesALL)."""
    return {ASLLexer.literalNames[member.value].strip("'\""): member for member in enum_type}


_STATE_TYPES = _by_literal(p.StateType)
_ERROR_NAMES = _by_literal(p.StatesErrorNameType)
_OPERATORS = _by_literal(p.ComparisonOperatorType)
_JITTER = _by_literal(p.JitterStrategy)
_MODES = _by_literal(p.Mode)
_EXECUTION_TYPES = _by_literal(p.ExecutionType)
_COMPOSITES = {"And": p.ComparisonCompositeAnd, "Or": p.ComparisonCompositeOr}
_STRING_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"')


def build_program(definition: str, parse_alone: Any) -> Any | None:
    """The program of `definition`, or None when moto's parser must parse it whole; `parse_alone`
    parses one definition's text (used for a state this builder does not make)."""
    try:
        document = json.loads(definition, object_pairs_hook=_unique_pairs)
        texts = _Texts.of(definition)
        return _Builder(texts, parse_alone).program(document)
    except (Unsupported, ValueError, TypeError, KeyError, RecursionError):
        return None


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise Unsupported("a key written twice")  # moto's parser says what it makes of that
    return mapping


class _RetrierProps(p.RetrierProps):
    """moto's retrier props, shown briefly: moto formats them into an error message it makes for every
    retrier and catcher, raised or not (a third of the building time)."""

    def __repr__(self) -> str:
        return type(self).__name__


class _CatcherProps(p.CatcherProps):
    """moto's catcher props, shown briefly (as `_RetrierProps`)."""

    __repr__ = _RetrierProps.__repr__


class _Texts:
    """Each decoded string's text as written in the definition (they differ only where it has escapes)."""

    def __init__(self, written: dict[str, str]) -> None:
        self.written = written

    @classmethod
    def of(cls, definition: str) -> _Texts:
        if "\\" not in definition:
            return cls({})
        tokens = set(_STRING_TOKEN.findall(definition))
        written: dict[str, str] = {}
        for token in tokens:
            if "\\" not in token:
                continue
            value = json.loads(f'"{token}"')
            if value in tokens or written.setdefault(value, token) != token:
                raise Unsupported("one value written two ways")
        return cls(written)

    def raw(self, value: str) -> str:
        """The text as written, as the visitor's `_inner_string_of` reads it."""
        return self.written.get(value, value)

    def literal(self, value: str) -> str:
        """The value as the visitor's `from_string_literal` reads it (Python's escapes, not JSON's)."""
        raw = self.written.get(value)
        if raw is None:
            return value
        try:
            return ast.literal_eval(f'"{raw}"')
        except Exception:
            return raw

    def dumps(self, value: Any) -> str:
        """`value` as JSON text with each string as written."""
        if isinstance(value, str):
            return f'"{self.raw(value)}"'
        if isinstance(value, dict):
            return "{" + ",".join(f"{self.dumps(k)}:{self.dumps(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ",".join(self.dumps(item) for item in value) + "]"
        return json.dumps(value)


class _Builder:
    """Makes moto's components of one definition, field by field, as moto's visitor would."""

    def __init__(self, texts: _Texts, parse_alone: Any) -> None:
        self.texts = texts
        self.parse_alone = parse_alone
        self.query_language = p.QueryLanguage()

    # -- programs and states ------------------------------------------

    def program(self, document: Any) -> Any:
        if not isinstance(document, dict) or not {"StartAt", "States"} <= document.keys():
            raise Unsupported("not a program")
        extra = document.keys() - {"StartAt", "States", "Comment", "TimeoutSeconds", "Version"}
        if extra:
            raise Unsupported(f"program fields {extra}")
        states = p.States()
        if not isinstance(document["States"], dict):
            raise Unsupported("States")
        for name, state in document["States"].items():
            states.states[self.texts.raw(name)] = self.state(name, state)
        timeout = document.get("TimeoutSeconds")
        return p.Program(
            query_language=self.query_language,
            start_at=p.StartAt(start_at_name=self._text(document["StartAt"])),
            states=states,
            timeout_seconds=p.TimeoutSeconds(timeout_seconds=self._int(timeout)) if timeout is not None else None,
            comment=p.Comment(comment=self._text(document["Comment"])) if "Comment" in document else None,
            version=p.Version(version=self._text(document["Version"])) if "Version" in document else None,
        )

    def state(self, name: str, state: Any) -> Any:
        if not isinstance(state, dict) or state.get("Type") not in _STATE_FIELDS:
            return self.alone(name, state)
        props = p.StateProps()
        try:
            for key, value in state.items():
                make = _STATE_FIELDS[state["Type"]].get(key)
                if make is None:
                    raise Unsupported(key)
                props.add(make(self, value))
        except Unsupported:
            return self.alone(name, state)
        props.add(self.query_language)
        props.name = self.texts.raw(name)
        return p.Preprocessor._common_state_field_of(state_props=props)

    def alone(self, name: str, state: Any) -> Any:
        """A state moto's parser makes: parsed as the one state of a program."""
        text = self.texts.dumps({"StartAt": name, "States": {name: state}})
        return self.parse_alone(text).states.states[self.texts.raw(name)]

    # -- fields ---------------------------------------------------------

    def _text(self, value: Any) -> str:
        if not isinstance(value, str):
            raise Unsupported("not a string")
        return self.texts.raw(value)

    @staticmethod
    def _int(value: Any) -> int:
        if type(value) is not int:
            raise Unsupported("not a whole number")
        return value

    def type_(self, value: Any) -> Any:
        return _STATE_TYPES[value]

    def comment(self, value: Any) -> Any:
        return p.Comment(comment=self._text(value))

    def resource(self, value: Any) -> Any:
        return p.Resource.from_resource_arn(self._text(value))

    def next_(self, value: Any) -> Any:
        return p.Next(name=self._text(value))

    def end(self, value: Any) -> Any:
        if type(value) is not bool:
            raise Unsupported("End")
        return p.End(is_end=value)

    def result_path(self, value: Any) -> Any:
        return p.ResultPath(result_path_src=None if value is None else self._text(value))

    def input_path(self, value: Any) -> Any:
        return p.InputPath(string_sampler=None if value is None else self.sampler(value))

    def output_path(self, value: Any) -> Any:
        return p.OutputPath(string_sampler=None if value is None else self.sampler(value))

    def result(self, value: Any) -> Any:
        return p.Result(result_obj=value)

    def parameters(self, value: Any) -> Any:
        return p.Parameters(payload_tmpl=self.payload_template(value))

    def result_selector(self, value: Any) -> Any:
        return p.ResultSelector(payload_tmpl=self.payload_template(value))

    def timeout_seconds(self, value: Any) -> Any:
        return p.TimeoutSeconds(timeout_seconds=self._int(value))

    def heartbeat_seconds(self, value: Any) -> Any:
        return p.HeartbeatSeconds(heartbeat_seconds=self._int(value))

    def branches(self, value: Any) -> Any:
        if not isinstance(value, list):
            raise Unsupported("Branches")
        return p.BranchesDecl(programs=[self.program(branch) for branch in value])

    def error(self, value: Any) -> Any:
        return p.Error(string_expression=self.string_literal(value))

    def cause(self, value: Any) -> Any:
        return p.Cause(string_expression=self.string_literal(value))

    def error_path(self, value: Any) -> Any:
        return p.ErrorPath(string_expression=self.simple(value))

    def cause_path(self, value: Any) -> Any:
        return p.CausePath(string_expression=self.simple(value))

    def seconds(self, value: Any) -> Any:
        return p.Seconds(seconds=self._int(value))

    def seconds_path(self, value: Any) -> Any:
        return p.SecondsPath(string_sampler=self.sampler(value))

    def timestamp_path(self, value: Any) -> Any:
        return p.TimestampPath(string=self.sampler(value))

    def default(self, value: Any) -> Any:
        return p.DefaultDecl(state_name=self._text(value))

    # -- strings --------------------------------------------------------

    def string_literal(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise Unsupported("not a string")
        return p.StringLiteral(literal_value=self.texts.literal(value))

    def sampler(self, value: Any) -> Any:
        """A JSONPath or a context object path (a variable, `$name`, is left to moto's parser)."""
        text = self._text(value)
        if text.startswith("$$"):
            return p.StringContextPath(context_object_path=text)
        if text == "$" or text.startswith(("$.", "$[")):
            return p.StringJsonPath(json_path=text)
        raise Unsupported("not a path")

    def simple(self, value: Any) -> Any:
        """A path or an intrinsic function."""
        if isinstance(value, str) and value.startswith("States."):
            text = value.translate(CONTROL_HIDDEN)  # the value, as module `interpreter` has moto read it
            try:
                function = build_function(text)
            except IntrinsicUnsupported:
                function, _ = p.IntrinsicParser.parse(text)
            return p.StringIntrinsicFunction(intrinsic_function_derivation=text, function=function)
        return self.sampler(value)

    # -- payload templates (Parameters, ResultSelector) ---------------------

    def payload_template(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise Unsupported("a payload template is an object")
        bindings = []
        for key, item in value.items():
            raw_key = self.texts.raw(key)
            if raw_key.endswith(".$"):
                binding = p.PayloadBindingStringExpressionSimple(
                    field=raw_key[:-2], string_expression_simple=self.simple(item)
                )
            else:
                binding = p.PayloadBindingValue(field=self.texts.literal(key), payload_value=self.payload_value(item))
            bindings.append(binding)
        return p.PayloadTmpl(payload_bindings=bindings)

    def payload_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self.payload_template(value)
        if isinstance(value, list):
            return p.PayloadArr(payload_values=[self.payload_value(item) for item in value])
        if isinstance(value, str):
            return p.PayloadValueStr(val=self.texts.literal(value))
        if value is None:
            return p.PayloadValueNull()
        if type(value) is bool:
            return p.PayloadValueBool(val=value)
        if type(value) is int:
            return p.PayloadValueInt(val=value)
        return p.PayloadValueFloat(val=float(value))

    # -- Map states (inline, and distributed over a list in the state) -----------

    def items_path(self, value: Any) -> Any:
        return p.ItemsPath(string_sampler=self.sampler(value))

    def max_concurrency(self, value: Any) -> Any:
        return p.MaxConcurrency(num=self._int(value))

    def item_selector(self, value: Any) -> Any:
        return p.ItemSelector(template_value_object=self.assign_object(value))

    def assign_object(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise Unsupported("an item selector is an object")
        bindings = []
        for key, item in value.items():
            raw_key = self.texts.raw(key)
            if raw_key.endswith(".$"):
                binding = p.AssignTemplateBindingStringExpressionSimple(
                    identifier=raw_key[:-2], string_expression_simple=self.simple(item)
                )
            else:
                binding = p.AssignTemplateBindingValue(
                    identifier=self.texts.literal(key), assign_value=self.assign_value(item)
                )
            bindings.append(binding)
        return p.AssignTemplateValueObject(bindings=bindings)

    def assign_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self.assign_object(value)
        if isinstance(value, list):
            return p.AssignTemplateValueArray(values=[self.assign_value(item) for item in value])
        if isinstance(value, str):
            return p.AssignTemplateValueTerminalLit(value=self.texts.raw(value))  # the visitor reads the text
        return p.AssignTemplateValueTerminalLit(value=value)

    def item_processor(self, value: Any) -> Any:
        if not isinstance(value, dict) or value.keys() - {"StartAt", "States", "ProcessorConfig", "Comment"}:
            raise Unsupported("ItemProcessor")
        program = self.program({key: item for key, item in value.items() if key != "ProcessorConfig"})
        return p.ItemProcessorDecl(
            query_language=p.QueryLanguage(),
            start_at=program.start_at,
            states=program.states,
            comment=program.comment,
            processor_config=self.processor_config(value.get("ProcessorConfig", {})),
        )

    def iterator(self, value: Any) -> Any:
        if not isinstance(value, dict) or value.keys() - {"StartAt", "States", "ProcessorConfig", "Comment"}:
            raise Unsupported("Iterator")
        program = self.program({key: item for key, item in value.items() if key != "ProcessorConfig"})
        return p.IteratorDecl(
            comment=program.comment,
            query_language=self.query_language,
            start_at=program.start_at,
            states=program.states,
            processor_config=self.processor_config(value.get("ProcessorConfig", {})),
        )

    @staticmethod
    def processor_config(config: Any) -> Any:
        if not isinstance(config, dict) or config.keys() - {"Mode", "ExecutionType"}:
            raise Unsupported("ProcessorConfig")
        return p.ProcessorConfig(
            mode=_MODES[config["Mode"]] if "Mode" in config else p.ProcessorConfig.DEFAULT_MODE,
            execution_type=(
                _EXECUTION_TYPES[config["ExecutionType"]]
                if "ExecutionType" in config
                else p.ProcessorConfig.DEFAULT_EXECUTION_TYPE
            ),
        )

    # -- retry and catch --------------------------------------------------

    def error_equals(self, value: Any) -> Any:
        if not isinstance(value, list):
            raise Unsupported("ErrorEquals")
        names = []
        for name in value:
            known = _ERROR_NAMES.get(self._text(name))
            names.append(p.StatesErrorName(known) if known else p.CustomErrorName(error_name=self.texts.raw(name)))
        return p.ErrorEqualsDecl(error_names=names)

    def retry(self, value: Any) -> Any:
        return p.RetryDecl(retriers=[self.retrier(each) for each in self._objects(value)])

    def retrier(self, fields: dict[str, Any]) -> Any:
        props = _RetrierProps()
        for key, value in fields.items():
            make = _RETRIER_FIELDS.get(key)
            if make is None:
                raise Unsupported(key)
            props.add(make(self, value))
        return p.RetrierDecl.from_retrier_props(props=props)

    def catch(self, value: Any) -> Any:
        catchers = []
        for fields in self._objects(value):
            props = _CatcherProps()
            for key, item in fields.items():
                make = _CATCHER_FIELDS.get(key)
                if make is None:
                    raise Unsupported(key)
                props.add(make(self, item))
            if not props.get(p.ResultPath):
                props.add(p.CatcherDecl.DEFAULT_RESULT_PATH)
            catchers.append(p.CatcherDecl.from_catcher_props(props=props))
        return p.CatchDecl(catchers=catchers)

    @staticmethod
    def _objects(value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not all(isinstance(each, dict) for each in value):
            raise Unsupported("a list of objects")
        return value

    # -- choices ----------------------------------------------------------

    def choices(self, value: Any) -> Any:
        return p.ChoicesDecl(rules=[self.choice_rule(rule) for rule in self._objects(value)])

    def choice_rule(self, rule: dict[str, Any]) -> Any:
        next_stmt = p.Next(name=self._text(rule["Next"])) if "Next" in rule else None
        comment = p.Comment(comment=self._text(rule["Comment"])) if "Comment" in rule else None
        tests = rule.keys() - {"Next", "Comment"}
        if tests == {"Not"} and isinstance(rule["Not"], dict):
            comparison = p.ComparisonCompositeNot(rule=self.choice_rule(rule["Not"]))
        elif len(tests) == 1 and next(iter(tests)) in _COMPOSITES:
            (operator,) = tests
            comparison = _COMPOSITES[operator](rules=[self.choice_rule(each) for each in self._objects(rule[operator])])
        else:
            comparison = self.comparison(rule, tests)
        return p.ChoiceRule(comparison=comparison, next_stmt=next_stmt, comment=comment, assign=None, output=None)

    def comparison(self, rule: dict[str, Any], tests: set[str]) -> Any:
        operators = tests - {"Variable"}
        if "Variable" not in tests or len(operators) != 1:
            raise Unsupported("a comparison")
        (operator,) = operators
        if operator not in _OPERATORS:
            raise Unsupported(operator)
        variable = p.Variable(string_sampler=self.sampler(rule["Variable"]))
        func = p.ComparisonFuncValue(operator_type=_OPERATORS[operator], value=rule[operator])
        return p.ComparisonVariable(variable=variable, func=func)


_COMMON_FIELDS = {"Type": _Builder.type_, "Comment": _Builder.comment}
_FLOW_FIELDS = {"Next": _Builder.next_, "End": _Builder.end}
_PATH_FIELDS = {"InputPath": _Builder.input_path, "OutputPath": _Builder.output_path}
_STATE_FIELDS: dict[str, dict[str, Any]] = {
    "Task": {
        **_COMMON_FIELDS, **_FLOW_FIELDS, **_PATH_FIELDS,
        "Resource": _Builder.resource,
        "Parameters": _Builder.parameters,
        "ResultSelector": _Builder.result_selector,
        "ResultPath": _Builder.result_path,
        "TimeoutSeconds": _Builder.timeout_seconds,
        "HeartbeatSeconds": _Builder.heartbeat_seconds,
        "Retry": _Builder.retry,
        "Catch": _Builder.catch,
    },
    "Pass": {
        **_COMMON_FIELDS, **_FLOW_FIELDS, **_PATH_FIELDS,
        "Result": _Builder.result,
        "Parameters": _Builder.parameters,
        "ResultPath": _Builder.result_path,
    },
    "Parallel": {
        **_COMMON_FIELDS, **_FLOW_FIELDS, **_PATH_FIELDS,
        "Branches": _Builder.branches,
        "Parameters": _Builder.parameters,
        "ResultSelector": _Builder.result_selector,
        "ResultPath": _Builder.result_path,
        "Retry": _Builder.retry,
        "Catch": _Builder.catch,
    },
    "Map": {
        **_COMMON_FIELDS, **_FLOW_FIELDS, **_PATH_FIELDS,
        "ItemsPath": _Builder.items_path,
        "ItemSelector": _Builder.item_selector,
        "ItemProcessor": _Builder.item_processor,
        "Iterator": _Builder.iterator,
        "Parameters": _Builder.parameters,
        "MaxConcurrency": _Builder.max_concurrency,
        "ResultSelector": _Builder.result_selector,
        "ResultPath": _Builder.result_path,
        "Retry": _Builder.retry,
        "Catch": _Builder.catch,
    },
    "Choice": {**_COMMON_FIELDS, **_PATH_FIELDS, "Choices": _Builder.choices, "Default": _Builder.default},
    "Wait": {
        **_COMMON_FIELDS, **_FLOW_FIELDS, **_PATH_FIELDS,
        "Seconds": _Builder.seconds,
        "SecondsPath": _Builder.seconds_path,
        "TimestampPath": _Builder.timestamp_path,
    },
    "Fail": {
        **_COMMON_FIELDS,
        "Error": _Builder.error,
        "Cause": _Builder.cause,
        "ErrorPath": _Builder.error_path,
        "CausePath": _Builder.cause_path,
    },
    "Succeed": {**_COMMON_FIELDS, **_PATH_FIELDS},
}
_RETRIER_FIELDS = {
    "ErrorEquals": _Builder.error_equals,
    "IntervalSeconds": lambda builder, value: p.IntervalSecondsDecl(seconds=builder._int(value)),
    "MaxAttempts": lambda builder, value: p.MaxAttemptsDecl(attempts=builder._int(value)),
    "BackoffRate": lambda builder, value: p.BackoffRateDecl(rate=float(value)),
    "MaxDelaySeconds": lambda builder, value: p.MaxDelaySecondsDecl(max_delays_seconds=builder._int(value)),
    "JitterStrategy": lambda builder, value: p.JitterStrategyDecl(jitter_strategy=_JITTER[value]),
}
_CATCHER_FIELDS = {"ErrorEquals": _Builder.error_equals, "ResultPath": _Builder.result_path, "Next": _Builder.next_}
