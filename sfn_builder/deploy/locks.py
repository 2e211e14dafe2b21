"""One writer at a time: short-lived locks in SSM Parameter Store.

`create` and `delete` of a workflow, and every edit of a shared topic's policy,
run while holding a lock: an SSM parameter under `/sfn-build/locks/`, created
with `Overwrite=False`, which AWS makes atomic (exactly one of two concurrent
creators succeeds). The holder deletes it when done. Another sfn-build waits up
to `WAIT_SECONDS` and then says who holds it; a lock left by a process that died
is taken over once it is `STALE_SECONDS` old. Without permission to use SSM the
command warns and goes on unlocked, as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from .aws import Aws, AwsError, error_code, translate

PREFIX = "/sfn-build/locks/"
WAIT_SECONDS = 300.0
STALE_SECONDS = 15 * 60
POLL_SECONDS = 1.0


class Busy(AwsError):
    """Another sfn-build holds the lock longer than this one waits."""


@contextlib.contextmanager
def held(
    aws: Aws,
    key: str,
    what: str,
    *,
    wait: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the lock `key` (letters, digits, `-_.`) while changing `what`."""
    ssm, name = aws.client("ssm"), PREFIX + key
    token = uuid.uuid4().hex
    value = json.dumps(
        {"owner": f"{socket.gethostname()} pid {os.getpid()}", "since": time.time(), "token": token, "what": what}
    )
    if not _acquire(ssm, name, value, what, WAIT_SECONDS if wait is None else wait, on_wait or _tell):
        yield  # no SSM access: unlocked, as before
        return
    try:
        yield
    finally:
        _release(ssm, name, token)


def _acquire(ssm: Any, name: str, value: str, what: str, wait: float, on_wait: Callable[[str], None]) -> bool:
    deadline, told = time.monotonic() + wait, False
    while True:
        try:
            ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=False)
            return True
        except Exception as error:
            code = error_code(error)
            if code in ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException"):
                print(
                    f"warning: cannot take the lock {name} in SSM Parameter Store ({code}): going on without it; "
                    "two sfn-build runs at once could interfere",
                    file=sys.stderr,
                )
                return False
            if code != "ParameterAlreadyExists":
                raise translate(error, f"the lock {name}") from None
        holder = _holder(ssm, name)
        if holder is None:
            continue  # released in between
        since = float(holder.get("since", 0))
        if time.time() - since > STALE_SECONDS:
            with contextlib.suppress(Exception):
                ssm.delete_parameter(Name=name)
            continue
        started = datetime.fromtimestamp(since, UTC).strftime("%H:%M:%S UTC")
        who = f"{holder.get('owner', 'another sfn-build')}, since {started}"
        if time.monotonic() >= deadline:
            raise Busy(
                f"another sfn-build is changing {what} ({who}): run again when it is done; if that run died, "
                f"its lock expires {STALE_SECONDS // 60} minutes after it started, or remove it with "
                f"`aws ssm delete-parameter --name {name}`"
            )
        if not told:
            on_wait(f"waiting for another sfn-build that is changing {what} ({who})")
            told = True
        time.sleep(POLL_SECONDS)


def _holder(ssm: Any, name: str) -> dict[str, object] | None:
    try:
        found = ssm.get_parameter(Name=name)
    except Exception as error:
        if error_code(error) == "ParameterNotFound":
            return None
        raise translate(error, f"the lock {name}") from None
    try:
        holder = json.loads(found["Parameter"]["Value"])
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}


def _release(ssm: Any, name: str, token: str) -> None:
    """Remove the lock if it is still this run's (a stale takeover may have replaced it)."""
    with contextlib.suppress(Exception):
        holder = _holder(ssm, name)
        if holder is not None and holder.get("token") == token:
            ssm.delete_parameter(Name=name)


def _tell(message: str) -> None:
    print(message, file=sys.stderr)
