"""AWS conventions users rely on: AWS_REGION, AWS_PROFILE, endpoints that do not answer or are not AWS."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading

import botocore.config
import pytest
from conftest import ROOT

from sfn_builder.deploy import aws as aws_module
from sfn_builder.deploy.aws import Aws, AwsError, Target


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)


def test_aws_region_is_honoured_as_lambda_ecs_and_codebuild_set_only_it(credentials, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-2")
    assert Aws.connect(Target()).region == "eu-west-2"
    assert Aws.connect(Target(region="us-east-1")).region == "us-east-1"  # --region wins


def test_a_missing_profile_named_in_aws_profile_is_named(credentials, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    with pytest.raises(AwsError, match="there is no AWS profile named 'no-such-profile'"):
        Aws.connect(Target())


def test_compile_needs_no_aws_profile():
    env = {**os.environ, "AWS_PROFILE": "no-such-profile"}
    spec = str(ROOT / "workflows" / "single-processing.yaml")
    done = subprocess.run([sys.executable, "-m", "sfn_builder", "compile", spec], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()


def test_the_first_call_gives_up_on_a_silent_endpoint_within_about_30_seconds():
    probe = aws_module.PROBE
    attempts = probe.retries["max_attempts"]
    assert attempts * (probe.connect_timeout + probe.read_timeout) <= 30


@pytest.fixture
def silent_endpoint():
    """A server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


def test_a_silent_endpoint_is_reported_as_such(credentials, silent_endpoint, monkeypatch):
    quick = botocore.config.Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=1, read_timeout=1)
    monkeypatch.setattr(aws_module, "PROBE", quick)
    aws = Aws.connect(Target(region="us-east-1", endpoint_url=silent_endpoint))
    with pytest.raises(AwsError, match="did not answer in time"):
        aws.identity()


def test_an_endpoint_that_is_not_aws_is_reported_as_such(credentials, tmp_path):
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        aws = Aws.connect(Target(region="us-east-1", endpoint_url=f"http://127.0.0.1:{server.server_port}"))
        with pytest.raises(AwsError, match="is not AWS's"):
            aws.identity()
    finally:
        server.shutdown()
