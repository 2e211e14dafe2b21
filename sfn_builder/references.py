"""What a `${...}` reference points at: its JSON type and whether it always exists.

Step results are described by botocore's output shapes (see service_models);
a processing step's `report` and a Lambda's payload are the user's own JSON,
so nothing is known about what lies below them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .model import Workflow
from .service_models import result_tree
from .steps import KINDS
from .templates import Reference

_JSON_TYPES = {
    "string": "string",
    "timestamp": "string",
    "blob": "string",
    "integer": "number",
    "long": "number",
    "float": "number",
    "double": "number",
    "boolean": "boolean",
    "list": "array",
    "map": "object",
    "structure": "object",
}
_INPUT_TYPES = {"integer": "number"}
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Target:
    """What a reference resolves to, as far as the compiler can tell."""

    json_type: str | None  # "string", "number", "boolean", "array", "object" or None (unknown)
    always_present: bool  # every member on the way is required (safe to select in ResultSelector)
    error: str | None = None
    suggestions: tuple[str, ...] = ()
    per_item: bool = False  # a list gathered from every item of a for_each step (`[*]` in the path)


def resolve(ref: Reference, workflow: Workflow) -> Target:
    """Type and presence of the referenced value (`error` says why it cannot exist).

    A `for_each` step's result is the list of its items' results, so a member of
    it is the list of that member across items.
    """
    step = workflow.steps.get(str(ref.parts[0])) if ref.namespace == "steps" else None
    if step is None or step.for_each is None:
        return resolve_item(ref, workflow)
    if len(ref.parts) > 1 and isinstance(ref.parts[1], int):
        return Target(
            None,
            False,
            f"steps.{step.name} runs once per item, and how many items there are is known only at run time: "
            "read the whole list, or one member across items",
        )
    item = resolve_item(ref, workflow)
    if item.error:
        return item
    # a member across items (and a lambda's whole results: each its Payload) is gathered with [*]
    return Target("array", item.always_present, per_item=len(ref.parts) > 1 or step.type == "lambda")


def resolve_item(ref: Reference, workflow: Workflow) -> Target:
    """`resolve` for one run of the step (one item of a for_each step)."""
    if ref.namespace == "execution":
        return Target("string", True)
    if ref.namespace == "item":
        return Target(None, True)
    if ref.namespace == "error":
        return Target("string" if ref.parts else "object", True)
    if ref.namespace == "input":
        field = workflow.input_field(str(ref.parts[0]))
        if field is None:
            return Target(None, False, f"the input '{ref.parts[0]}' is not declared")
        if len(ref.parts) > 1:
            return Target(None, False)
        return Target(_INPUT_TYPES.get(field.type, field.type), True)
    step = workflow.steps.get(str(ref.parts[0]))
    if step is None:
        return Target(None, False, f"there is no step '{ref.parts[0]}'")
    parts = ref.parts[1:]
    if step.type == "processing" and parts[:1] == ("report",) and step.config.get("report"):
        return Target(None, False)
    if step.type == "model" and parts == ("ModelName",):
        return Target("string", True)
    if step.type == "lambda" or (step.type == "workflow" and parts[:1] == ("Output",)):
        return Target(None, False)
    tree = result_tree(step.type)
    if tree is None:
        return Target(None, False)
    found = _walk(tree, parts)
    if len(parts) == 1 and parts[0] in KINDS[step.type].summary and not found.error:
        return Target(found.json_type, True)  # the summary a step's kind always returns (whatever botocore marks)
    return found


def present_inside(step_type: str, path: tuple[str, ...]) -> bool:
    """Whether the members of `path` after its first are always there when the first is (in the
    step type's result)."""
    tree = result_tree(step_type)
    members = tree.get("members", {}) if tree else {}
    return path[0] in members and _walk(members[path[0]], path[1:]).always_present


def _walk(tree: dict[str, Any], parts: tuple[str | int, ...]) -> Target:
    node, present = tree, True
    for part in parts:
        kind = node["type"]
        if isinstance(part, int):
            if kind != "list":
                return Target(None, False, f"[{part}] indexes a list, but this is a {kind}")
            node, present = node.get("member", {"type": "unknown"}), False
        elif kind == "structure" and "members" in node:
            members = node["members"]
            if part not in members:
                return Target(None, False, f"the result has no member '{part}'", tuple(members))
            present = present and part in node["required"]
            node = members[part]
        elif kind == "map":
            node, present = node.get("value", {"type": "unknown"}), False
        elif kind in ("structure", "list"):
            return Target(None, False)
        else:
            return Target(None, False, f"'{part}' is inside a {kind}, which has no members")
    return Target(_JSON_TYPES.get(node["type"]), present)


def has_result(step_type: str) -> bool:
    return KINDS[step_type].has_result
