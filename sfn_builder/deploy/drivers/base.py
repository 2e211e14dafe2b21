"""What every driver does, and helpers they share.

A driver reads a resource back in the normalised form `resources` builds
(`read`), lists the names of the ones a workflow owns that exist
(`owned_names`), and creates, updates (only what differs) and deletes them.
Reads use only Get/Describe/List calls, so planning never changes anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from ...naming import TAG_WORKFLOW
from ..aws import Aws, AwsError, translate
from ..resources import LABELS, Resource


class NotOwned(AwsError):
    """A resource with the name sfn-build wants exists and was not made for this workflow."""

    def __init__(self, kind: str, name: str, owner: str | None) -> None:
        who = f"by sfn-build for the workflow {owner!r}" if owner else "outside sfn-build"
        super().__init__(
            f"the {LABELS[kind]} {name} already exists and was made {who}, so sfn-build will not change it: "
            "rename the workflow, or delete or rename that resource"
        )


class Driver:
    kind: ClassVar[str]

    def read(self, aws: Aws, name: str, workflow: str) -> dict[str, Any] | None:
        """The resource as it is (None when it does not exist); NotOwned when it is not ours."""
        raise NotImplementedError

    def owned_names(self, aws: Aws, workflow: str) -> list[str]:
        """Names of existing resources of this kind that this workflow owns."""
        raise NotImplementedError

    def owns(self, aws: Aws, name: str, workflow: str) -> bool:
        """Whether `name` exists and carries this workflow's ownership tag (anything else is left alone)."""
        try:
            return self.read(aws, name, workflow) is not None
        except NotOwned:
            return False

    def differs(self, actual: dict[str, Any], spec: dict[str, Any]) -> bool:
        """Whether the resource as it is must change to match the spec."""
        return actual != spec

    def change_details(self, actual: dict[str, Any] | None, spec: dict[str, Any]) -> list[str] | None:
        """How adding or changing it reads in a plan; None: the fields that differ."""
        return None

    def create(self, aws: Aws, resource: Resource) -> None:
        raise NotImplementedError

    def update(self, aws: Aws, resource: Resource, actual: dict[str, Any]) -> None:
        raise NotImplementedError

    def delete(self, aws: Aws, name: str, workflow: str) -> None:
        raise NotImplementedError


def tag_dict(tags: Iterable[dict[str, str]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {item[key]: item[value] for item in tags or []}


def tag_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in sorted(tags.items())]


def check_owner(kind: str, name: str, tags: dict[str, str], workflow: str) -> None:
    owner = tags.get(TAG_WORKFLOW)
    if owner != workflow:
        raise NotOwned(kind, name, owner)


def tag_changes(desired: dict[str, str], actual: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(tags to set, tag keys to remove)."""
    to_set = {k: v for k, v in desired.items() if actual.get(k) != v}
    return to_set, sorted(k for k in actual if k not in desired)


def retry_while_propagating(operation: Callable[[], Any], *, what: str, patience: float = 90.0) -> Any:
    """IAM is eventually consistent: a role made seconds ago may not be assumable yet."""
    delay, waited = 2.0, 0.0
    while True:
        try:
            return operation()
        except Exception as error:
            text = str(error).lower()
            propagating = any(word in text for word in ("assume", "not authorized to perform", "cannot be assumed"))
            if not propagating or waited >= patience:
                raise translate(error, what) from None
            time.sleep(delay)
            waited += delay
            delay = min(delay * 2, 15.0)
