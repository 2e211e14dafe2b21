"""The embedded local AWS: moto's server on loopback, started on first use.

`sfn-build local start` (or any command with --local) starts `moto.server` on
127.0.0.1 in the background and records its address and process in
`~/.cache/sfn-build/local/state.json`; later commands reuse it until
`sfn-build local stop`. The emulator keeps everything in memory: stopping it
forgets every resource. Its executions run, with mocked jobs (see `emulator`).
The record also holds a digest of sfn-build's code: an emulator started by another
version keeps running that version's interpreter, which `outdated` tells.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..files import write_atomically
from ..user_cache import cache_folder

DEFAULT_PORT = 4599
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Emulator:
    url: str
    pid: int
    log: Path


def state_dir() -> Path:
    return cache_folder("local")


def cases_dir() -> Path:
    """Where `execute --local` leaves the mocked test case of an execution it starts."""
    return state_dir() / "cases"


def status() -> Emulator | None:
    """The running emulator, or None (a stale record is forgotten)."""
    state_file = state_dir() / "state.json"
    try:
        state = json.loads(state_file.read_text())
        emulator = Emulator(state["url"], int(state["pid"]), Path(state["log"]))
    except (OSError, ValueError, KeyError):
        return None
    if _alive(emulator.pid) and _answers(emulator.url):
        return emulator
    state_file.unlink(missing_ok=True)
    return None


def code_digest() -> str:
    """A digest of this installation's sfn-build sources (what the emulator runs)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


def outdated() -> bool:
    """Whether the running emulator was started by other sfn-build code than this."""
    try:
        state = json.loads((state_dir() / "state.json").read_text())
    except (OSError, ValueError):
        return False
    return state.get("code") != code_digest()


def start() -> Emulator:
    """The running emulator, started now if need be."""
    running = status()
    if running is not None:
        return running
    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "emulator.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "sfn_builder.deploy.emulator", "--cases", str(cases_dir()), "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # keeps running after this command ends
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local AWS emulator exited at start (exit {process.returncode}); see {log}")
        if _answers(url):
            emulator = Emulator(url, process.pid, log)
            state = {"url": url, "pid": process.pid, "log": str(log), "code": code_digest()}
            write_atomically(folder / "state.json", json.dumps(state).encode("utf-8"))
            return emulator
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the local AWS emulator did not answer within {START_TIMEOUT:.0f} s; see {log}")


def stop() -> bool:
    """Stop the emulator; False when none was running."""
    running = status()
    if running is None:
        return False
    os.kill(running.pid, signal.SIGTERM)
    for _ in range(50):
        if not _alive(running.pid):
            break
        time.sleep(0.1)
    (state_dir() / "state.json").unlink(missing_ok=True)
    return True


def _free_port() -> int:
    for port in (DEFAULT_PORT, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free port on 127.0.0.1 for the local AWS emulator")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
