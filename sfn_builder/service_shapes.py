"""The shapes of a botocore service model, read from its JSON as botocore.model reads them.

The request checks ask a shape for its name, type, members, required members,
metadata (min, max, pattern, ...), enum, and the shapes of a list's member and a
map's key and value. botocore.model answers the same, but importing it imports
botocore's HTTP stack (urllib3, ssl, http.client): a quarter of a compile's start.
A member's reference may carry traits of its own; as in botocore, they are merged
over the shape it names. tests/test_request_fields.py holds these shapes against
botocore.model's.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

# botocore.model.Shape.METADATA_ATTRS
METADATA_KEYS = (
    "required", "min", "max", "pattern", "sensitive", "enum", "idempotencyToken", "error", "exception",
    "endpointdiscoveryid", "retryable", "document", "union", "contextParam", "clientContextParams", "requiresLength",
)  # fmt: skip


class ShapeMap:
    """The shapes of one service model (its `shapes` mapping); a shape named without traits is made once."""

    def __init__(self, shapes: dict[str, Any]) -> None:
        self.shapes = shapes
        self.made: dict[str, Shape] = {}

    def shape(self, reference: dict[str, Any]) -> Shape:
        """The shape a reference (`{"shape": name, ...traits}`) names."""
        name = reference["shape"]
        if len(reference) == 1:
            made = self.made.get(name)
            if made is None:
                made = self.made[name] = Shape(name, self.shapes[name], self)
            return made
        traits = {key: value for key, value in reference.items() if key != "shape"}
        return Shape(name, {**self.shapes[name], **traits}, self)


class Shape:
    """One shape: what botocore.model.Shape (and its Structure, List and Map kinds) tell the checks."""

    def __init__(self, name: str, model: dict[str, Any], shapes: ShapeMap) -> None:
        self.name = name
        self.model = model
        self.type_name: str = model["type"]
        self._shapes = shapes

    def __repr__(self) -> str:
        return f"<Shape({self.name})>"

    @cached_property
    def metadata(self) -> dict[str, Any]:
        return {key: self.model[key] for key in METADATA_KEYS if key in self.model}

    @property
    def required_members(self) -> list[str]:
        return self.metadata.get("required", [])

    @property
    def enum(self) -> list[str]:
        return self.metadata.get("enum", [])

    @cached_property
    def members(self) -> dict[str, Shape]:
        return {name: self._shapes.shape(reference) for name, reference in self.model.get("members", {}).items()}

    @cached_property
    def member(self) -> Shape:
        return self._shapes.shape(self.model["member"])

    @cached_property
    def key(self) -> Shape:
        return self._shapes.shape(self.model["key"])

    @cached_property
    def value(self) -> Shape:
        return self._shapes.shape(self.model["value"])


def operation_input(model: dict[str, Any], operation: str) -> Shape | None:
    """An operation's input shape (None when it takes none)."""
    body = model["operations"][operation]
    return ShapeMap(model["shapes"]).shape(body["input"]) if "input" in body else None
