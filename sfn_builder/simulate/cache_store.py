"""Cached jobs where no AWS runs them: `simulate` and the local emulator answer the cache lookup here.

A store keeps, by cache key, each cached job that completed in an earlier run (its
result and when). The cache lookup task (`<step>.cache`) is answered as the deployed
function would answer it (module `deploy.cache_lookup`): the newest entry with the
request's key that is not older than the step's `expire_after`, at the simulation's
clock (virtual: `simulate --at` moves it). After a run, the jobs it completed with a
cache-key tag are recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..deploy.cache_lookup import TAG, cache_key
from ..history import state_of


@dataclass
class CacheStore:
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> {"completed": epoch, "result"}

    def answer(self, payload: dict[str, Any], now: float) -> dict[str, Any]:
        key = cache_key(payload["request"])
        entry = self.entries.get(key)
        expire_after = payload.get("expire_after")
        fresh = entry is not None and (not expire_after or now - entry["completed"] <= expire_after)
        return {"hit": fresh, "key": key, "result": entry["result"] if fresh and entry else None}

    def record(self, events: list[dict[str, Any]], now: float) -> None:
        """Every job of the run that succeeded with a cache-key tag."""
        by_id: dict[int, dict[str, Any]] = {}
        keys: dict[str, str] = {}  # state -> the key of the job it started last
        for event in events:
            by_id[event["id"]] = event
            details = event.get("taskScheduledEventDetails")
            if details is not None:
                parameters = details.get("parameters") or "{}"
                key = _tag(json.loads(parameters)) if TAG in parameters else None  # few jobs are cached
                if key:
                    keys[state_of(event, by_id)] = key
            elif event["type"] == "TaskSucceeded":
                state = state_of(event, by_id)
                if state in keys:
                    output = json.loads(event["taskSucceededEventDetails"].get("output") or "null")
                    self.entries[keys.pop(state)] = {"completed": now, "result": output}

    def to_json(self) -> str:
        return json.dumps({"entries": self.entries}, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CacheStore:
        data = json.loads(text)
        return cls(dict(data.get("entries", {})))


def _tag(request: dict[str, Any]) -> str | None:
    tags = request.get("Tags")
    if isinstance(tags, list):
        return next((t.get("Value") for t in tags if isinstance(t, dict) and t.get("Key") == TAG), None)
    if isinstance(tags, dict):
        return tags.get(TAG)
    return None
