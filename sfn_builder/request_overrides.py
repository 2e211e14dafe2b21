"""`request:`: API members a step adds to the request body sfn-build generates for it.

Any member of the step's API may be given, spelled as the API reference spells it (Batch members
are written as Step Functions takes them, PascalCase, whichever case the spec uses). Structures
and maps merge member by member into what the step's fields generate; a `null` removes a member
the compiler wrote; any other value replaces. `Tags` add to the workflow's tags. The merged body
is checked against botocore's model like every request (module `request_check`), and templates
(`${...}`) are allowed in values.

Members the compiler derives from other fields cannot be given here: the job name (IAM policies
and alerts are scoped to it), the role (its PassRole is granted from `role`), the queue, job
definition and model (the policy names them). The field to write instead is said.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .model import Step
from .naming import RESERVED_TAG_PREFIXES
from .problems import Path, Problem
from .steps.base import StepKind

FIELD = "request"


def with_overrides(generated: dict[str, Any], overrides: Mapping[str, Any] | None, shape: Any) -> dict[str, Any]:
    """`generated` with the step's `request:` members merged in (`shape`: the API's input shape)."""
    if not overrides:
        return generated
    return _merged(generated, overrides, shape)


def request_problems(step: Step, kind: StepKind) -> Iterator[Problem]:
    """What is wrong with a step's `request:` before the request is built: members it may not set."""
    overrides = step.config.get(FIELD)
    if not overrides or kind.api is None:
        return
    from .service_models import input_shape

    shape = input_shape(*kind.api)
    yield from _owned_member_problems(overrides, kind.owned_members, shape, ("steps", step.name, FIELD))


def _owned_member_problems(
    overrides: Mapping[str, Any], owned: Mapping[str, str], shape: Any, base: Path
) -> Iterator[Problem]:
    """Members `request:` may not set (`owned`: member, or `Member.Inner` for one inside a structure
    -> the field that sets it), and reserved tags."""
    for key, value in overrides.items():
        name = _spelled(key, shape)
        inner = {path.split(".", 1)[1]: hint for path, hint in owned.items() if path.startswith(f"{name}.")}
        if name in owned:
            yield Problem(
                f"{key} is set by sfn-build from the step's fields; request: cannot override it",
                (*base, key),
                hint=owned[name],
                on_key=True,
            )
        elif inner and isinstance(value, Mapping):
            yield from _owned_member_problems(value, inner, _member(shape, name), (*base, key))
        elif name == "Tags":
            yield from _reserved_tags(value, (*base, key))


def _merged(generated: Mapping[str, Any], overrides: Mapping[str, Any], shape: Any) -> dict[str, Any]:
    result = dict(generated)
    for key, value in overrides.items():
        name = _spelled(key, shape)
        member = _member(shape, name)
        if value is None:
            result.pop(name, None)
        elif name == "Tags" and name in result:
            result[name] = _added_tags(result[name], value)
        elif isinstance(value, Mapping) and isinstance(result.get(name), Mapping):
            result[name] = _merged(result[name], value, member)
        else:
            result[name] = _respelled(value, member)
    return result


def _respelled(value: Any, shape: Any) -> Any:
    """A value given whole, its structure members spelled as the request spells them (and a member
    given as null left out: null means absent wherever it is written)."""
    if isinstance(value, Mapping):
        spelled = {_spelled(key, shape): item for key, item in value.items() if item is not None}
        return {name: _respelled(item, _member(shape, name)) for name, item in spelled.items()}
    if isinstance(value, list):
        member = shape.member if shape is not None and shape.type_name == "list" else None
        return [_respelled(item, member) for item in value]
    return value


def _spelled(key: str, shape: Any) -> str:
    """The member name as the request writes it: botocore's name, capitalised for APIs whose model
    is camelCase (Batch: Step Functions takes `ContainerOverrides`); an unknown key as given."""
    if shape is None or shape.type_name != "structure":
        return key
    members = shape.members
    for candidate in (key, key[:1].lower() + key[1:], key[:1].upper() + key[1:]):
        if candidate in members:
            return candidate[:1].upper() + candidate[1:]
    return key


def _member(shape: Any, name: str) -> Any:
    if shape is None:
        return None
    if shape.type_name == "map":
        return shape.value
    if shape.type_name != "structure":
        return None
    members = shape.members
    return members.get(name) or members.get(name[:1].lower() + name[1:])


def _added_tags(ours: Any, theirs: Any) -> Any:
    """The workflow's tags with the step's: a step's value wins over the spec's `tags:`, never over a
    reserved key. A list of {Key, Value} (SageMaker) or a map (Batch)."""
    if isinstance(ours, Mapping) and isinstance(theirs, Mapping):
        return {**ours, **{key: value for key, value in theirs.items() if not _reserved(key)}}
    if isinstance(ours, list) and isinstance(theirs, list):
        tags = {tag["Key"]: tag for tag in ours}
        for tag in theirs:
            key = tag.get("Key") if isinstance(tag, Mapping) else None
            if not _reserved(key):
                tags[key if isinstance(key, str) else id(tag)] = tag  # a key of another type: the check says so
        return list(tags.values())
    return theirs  # not tags of the API's form: the request check says what is wrong


def _reserved(key: Any) -> bool:
    return isinstance(key, str) and key.lower().startswith(RESERVED_TAG_PREFIXES)


def _reserved_tags(value: Any, path: Path) -> Iterator[Problem]:
    if isinstance(value, Mapping):
        keys = [(key, (*path, key)) for key in value]
    elif isinstance(value, list):
        keys = [(tag.get("Key"), (*path, index, "Key")) for index, tag in enumerate(value) if isinstance(tag, Mapping)]
    else:
        return
    for key, where in keys:
        if _reserved(key):
            yield Problem(
                f"tag key {key!r} is reserved ({' and '.join(RESERVED_TAG_PREFIXES)} keys are AWS's and sfn-build's)",
                where,
                hint="choose another key",
            )


def written_at(member: tuple, overrides: Mapping[str, Any] | None, shape: Any) -> tuple:
    """Where under `request:` a member of the merged request was written (the deepest key on its
    path that the spec gave), or () when the step's fields generated it."""
    if not overrides:
        return ()
    written: list[str | int] = []
    value: Any = overrides
    for part in member:
        if isinstance(value, Mapping):
            key = next((key for key in value if key == part or _spelled(key, shape) == part), None)
            if key is None:
                break
            written.append(key)
            value, shape = value[key], _member(shape, _spelled(key, shape))
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            written.append(part)
            value, shape = value[part], getattr(shape, "member", None)
        else:
            break
    return tuple(written)
