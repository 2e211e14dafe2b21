"""Shared helpers: write specs to files, run the CLI in-process, compile examples."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from sfn_builder.cli import main
from sfn_builder.compiler import Compilation, compile_analysis
from sfn_builder.validate import Analysis, analyze_file

# No per-example deadline: speed is measured by bench/, never by tests.
settings.register_profile("sfn-build", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("sfn-build")

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / "workflows").glob("*.yaml"))


@pytest.fixture
def write_spec(tmp_path: Path):
    """Write spec text (dedented) to a file and return its path."""

    def write(text: str, name: str = "spec.yaml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def cli(capsys):
    """Run `sfn-build ARGS...` in-process: (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse usage errors
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """Keep this test's emulator record away from the user's (and stop it afterwards)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    yield tmp_path
    from sfn_builder.deploy import local

    local.stop()


@pytest.fixture
def aws_env(monkeypatch):
    """Credentials and region for the CLI, as the standard chain reads them (the emulator's)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    """The emulator (moto's server with sfn-build's extensions, as `--local` runs it) on a free loopback
    port: a real HTTP AWS endpoint for the session."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sfn_builder.deploy.emulator",
            "--cases",
            str(tmp_path_factory.mktemp("cases")),
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("moto's server did not start")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def emulator(moto_server):
    """The session's moto server, emptied before each test."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=10)
    return moto_server


def analyze_text(write_spec, text: str) -> Analysis:
    return analyze_file(write_spec(text))


def compile_text(write_spec, text: str) -> Compilation:
    return compile_analysis(analyze_file(write_spec(text)))


MINIMAL = """
version: 1
name: demo
defaults:
  sagemaker:
    role: arn:aws:iam::111122223333:role/demo-sagemaker
    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/demo:1
    instance_type: ml.m5.xlarge
steps:
  prep:
    type: processing
    entrypoint: [python3, prep.py]
"""


def history_line_after_a_run(cli, path: str, emulator: str, step: str) -> str:
    """Publish the spec on the emulator, run an execution to its end, and return the step's line of
    `sfn-build history`."""
    assert cli("create", path, "--endpoint-url", emulator, "--yes")[0] == 0
    code, out, err = cli("execute", path, "--endpoint-url", emulator, "--wait")
    assert code == 0, out + err
    code, out, _ = cli("history", path, "--endpoint-url", emulator)
    assert code == 0
    return next(line for line in out.splitlines() if line.strip().startswith(f"{step} "))


def refused_at_its_line(cli, write_spec, text: str, message: str) -> None:
    """`validate` of the spec text fails (exit 1) with `message`, placed in the spec file."""
    code, _, err = cli("validate", write_spec(text))
    assert code == 1 and message in err, err
    assert "spec.yaml:" in err
