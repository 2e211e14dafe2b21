"""Step Functions execution histories: which state entry an event belongs to.

Each event names the event before it (`previousEventId`); following that chain
back to a `...StateEntered` event finds the state it happened in.
"""

from __future__ import annotations

from typing import Any

Event = dict[str, Any]


def entry_of(event: Event, by_id: dict[int, Event]) -> int | None:
    """The id of the state-entered event `event` follows from, or None (none, or not seen yet)."""
    previous = event.get("previousEventId")
    while previous:
        earlier = by_id.get(previous)
        if earlier is None:
            return None
        if "stateEnteredEventDetails" in earlier:
            return previous
        previous = earlier.get("previousEventId")
    return None


def state_of(event: Event, by_id: dict[int, Event]) -> str:
    """The name of the state `event` happened in; "" for the execution itself."""
    entry = entry_of(event, by_id)
    return by_id[entry]["stateEnteredEventDetails"]["name"] if entry is not None else ""
