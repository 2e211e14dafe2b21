"""moto's component of an intrinsic function (`States.Format('{}', $.x)`) made without ANTLR.

moto parses each intrinsic function's text with a second ANTLR grammar: a 1,000-step workflow
holds thousands of different ones (job names, causes, tags), and parsing them was two thirds of
building its programs (module `program_builder`). The grammar is small: a function is
`States.<Name>(<arguments>)`, an argument a quoted string, a whole number, `true`/`false`, a
JSONPath or context object path, or a function. This reads exactly that and makes the components
moto's intrinsic Preprocessor would (with module `interpreter`'s reading of string arguments);
anything else (a number with a fraction, a variable, another escape, other spacing) is left to
moto's parser (`Unsupported`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from moto.stepfunctions.parser.asl.component.intrinsic.argument.argument import (
    ArgumentContextPath,
    ArgumentFunction,
    ArgumentJsonPath,
    ArgumentList,
    ArgumentLiteral,
)
from moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.factory import (
    StatesFunctionFactory,
)
from moto.stepfunctions.parser.asl.component.intrinsic.functionname.state_function_name_types import (
    StatesFunctionNameType,
)
from moto.stepfunctions.parser.asl.component.intrinsic.functionname.states_function_name import (
    StatesFunctionName,
)

from .interpreter import intrinsic_string

FUNCTIONS_KEPT = 20_000  # made functions kept per process, as the interpreter keeps parsed ones

_FUNCTION = re.compile(r"States\.([A-Za-z0-9]+)\(")
_STRING = re.compile(r"'((?:[^'\\]|\\[\\'{}])*)'")
_PATH_BODY = r"(?:\.[A-Za-z0-9_]+|\[[^\[\]]*\])*"
_CONTEXT_PATH = re.compile(r"\$\$" + _PATH_BODY + r"(?![A-Za-z0-9_$.\[])")
_JSON_PATH = re.compile(r"\$" + _PATH_BODY + r"(?![A-Za-z0-9_$.\[])")
_WHOLE_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?![0-9.eE])")
_BOOLEAN = re.compile(r"(true|false)(?![A-Za-z0-9_])")
_SPACES = re.compile(r" *")


class Unsupported(Exception):
    """Text this reader leaves to moto's parser."""


@lru_cache(maxsize=FUNCTIONS_KEPT)
def build_function(text: str) -> Any:
    """The component of the intrinsic function `text` (its characters below 32 hidden, as module
    `interpreter` hands moto's parser the text); raises Unsupported."""
    function, end = _function(text, 0)
    if end != len(text):
        raise Unsupported("text after the function")
    return function


def _function(text: str, at: int) -> tuple[Any, int]:
    match = _FUNCTION.match(text, at)
    if match is None or match.group(1) not in StatesFunctionNameType.__members__:
        raise Unsupported("not a States function")
    name = StatesFunctionNameType.__members__[match.group(1)]
    arguments: list[Any] = []
    at = _SPACES.match(text, match.end()).end()
    if text.startswith(")", at):
        at += 1
    else:
        while True:
            argument, at = _argument(text, at, template=not arguments and name is StatesFunctionNameType.Format)
            arguments.append(argument)
            at = _SPACES.match(text, at).end()
            if text.startswith(",", at):
                at = _SPACES.match(text, at + 1).end()
            elif text.startswith(")", at):
                at += 1
                break
            else:
                raise Unsupported("expected ',' or ')'")
    function = StatesFunctionFactory.from_name(
        func_name=StatesFunctionName(function_type=name), argument_list=ArgumentList(arguments=arguments)
    )
    return function, at


def _argument(text: str, at: int, template: bool) -> tuple[Any, int]:
    if text.startswith("States.", at):
        function, at = _function(text, at)
        return ArgumentFunction(function=function), at
    if match := _STRING.match(text, at):
        return ArgumentLiteral(definition_value=intrinsic_string(match.group(1), template)), match.end()
    if match := _CONTEXT_PATH.match(text, at):
        return ArgumentContextPath(context_path=match.group()), match.end()
    if match := _JSON_PATH.match(text, at):
        return ArgumentJsonPath(json_path=match.group()), match.end()
    if match := _WHOLE_NUMBER.match(text, at):
        return ArgumentLiteral(definition_value=int(match.group())), match.end()
    if match := _BOOLEAN.match(text, at):
        return ArgumentLiteral(definition_value=match.group() == "true"), match.end()
    raise Unsupported("an argument this reader does not know")
