"""AWS access: sessions from the standard credential chain, and errors a person can act on.

Clients come from botocore's session, as boto3's do (boto3 adds resources and S3 transfers, which
sfn-build does not use, and importing it imports s3transfer: 60 ms of every AWS command here)."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import botocore.config
import botocore.exceptions
import botocore.parsers
import botocore.session

from . import model_cache

RETRIES = botocore.config.Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=10, read_timeout=60)
# The first call (who am I?) tells quickly whether the endpoint answers at all: at most ~30 s.
PROBE = botocore.config.Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=8)
LOCAL_CREDENTIALS = ("testing", "testing")  # the emulator's access key and secret, not secrets
LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT = "123456789012"  # the account the embedded emulator serves (it pins it: module `emulator`)


class AwsError(Exception):
    """An AWS call failed; the message says what, on which resource, and what to do."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code  # AWS's error code, when AWS answered


@dataclass(frozen=True)
class Target:
    """Where to publish: profile, region and endpoint (the emulator's, with --local)."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    local: bool = False


@dataclass
class Aws:
    """Clients for one account and region, created on first use (by one thread at a time: a session is
    not thread-safe, its clients are)."""

    session: botocore.session.Session
    endpoint_url: str | None = None
    local: bool = False  # the embedded emulator, whose time is virtual
    _clients: dict[str, Any] = field(default_factory=dict)
    _identity: dict[str, str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def connect(cls, target: Target) -> Aws:
        endpoint = target.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        # AWS_REGION (all that Lambda, ECS and CodeBuild set) comes before the profile's region, as in AWS's SDKs.
        region = target.region or os.environ.get("AWS_REGION") or None
        try:  # the session reads the profile (AWS_PROFILE too) on its first look at its configuration
            session = model_cache.session(None if target.local else target.profile)
            if target.local:
                region = region or LOCAL_REGION
                session.set_credentials(*LOCAL_CREDENTIALS)
            if region:
                session.set_config_variable("region", region)
            session_region = session.get_config_variable("region")
        except botocore.exceptions.ProfileNotFound:
            profile = target.profile or os.environ.get("AWS_PROFILE")
            raise AwsError(f"there is no AWS profile named {profile!r}: see `aws configure list-profiles`") from None
        if session_region is None:
            raise AwsError("no AWS region is set: pass --region, set AWS_REGION, or configure one for the profile")
        return cls(session, endpoint, target.local)

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self.session.create_client(
                    service, endpoint_url=self.endpoint_url, config=RETRIES
                )
            return self._clients[service]

    @functools.cached_property
    def region(self) -> str:
        return self.session.get_config_variable("region")

    def identity(self) -> dict[str, str]:
        """Who the credentials are; the first call made, with short timeouts (see PROBE). The embedded
        emulator's is known: it answered when it was found or started."""
        with self._lock:
            if self._identity is None and self.local:
                self._identity = {"Account": LOCAL_ACCOUNT, "Arn": f"arn:aws:sts::{LOCAL_ACCOUNT}:user/moto"}
            if self._identity is None:
                sts = self.session.create_client("sts", endpoint_url=self.endpoint_url, config=PROBE)
                self._identity = call(sts.get_caller_identity, what="your AWS identity")
            return self._identity

    @property
    def account(self) -> str:
        return self.identity()["Account"]

    @property
    def partition(self) -> str:
        return self.identity()["Arn"].split(":")[1]

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account if account else ''}:"
            f"{resource}"
        )


_ACCESS_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError")
_THROTTLED = ("Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded")


def call(operation: Any, *, what: str, **kwargs: Any) -> Any:
    """Call a boto3 operation; an AWS failure becomes an AwsError that names `what`."""
    try:
        return operation(**kwargs)
    except Exception as error:
        raise translate(error, what) from None


def missing(operation: Callable[..., Any], codes: tuple[str, ...], *, what: str, **kwargs: Any) -> Any | None:
    """Call an operation; None when AWS answers one of `codes` (a read: it does not exist; a change:
    it is already done)."""
    try:
        return operation(**kwargs)
    except Exception as error:
        if error_code(error) in codes:
            return None
        raise translate(error, what) from None


def translate(error: Exception, what: str) -> Exception:
    """The AwsError to raise for a botocore exception (other exceptions are returned as they are)."""
    if isinstance(error, AwsError):
        return error
    if isinstance(error, botocore.exceptions.NoCredentialsError):
        return AwsError(
            "no AWS credentials found: run `aws configure` or pass --profile, or try it without an account with --local"
        )
    if isinstance(error, botocore.exceptions.EndpointConnectionError):
        endpoint = error.kwargs.get("endpoint_url", "its endpoint")
        return AwsError(
            f"cannot reach AWS at {endpoint}: check the network and --endpoint-url, "
            "or start the emulator with `sfn-build local start`"
        )
    if isinstance(error, botocore.exceptions.ReadTimeoutError | botocore.exceptions.ConnectTimeoutError):
        endpoint = error.kwargs.get("endpoint_url", "its endpoint")
        return AwsError(
            f"{endpoint} did not answer in time ({what}): check the network and --endpoint-url (or AWS_ENDPOINT_URL)"
        )
    if isinstance(error, botocore.parsers.ResponseParserError):
        return AwsError(
            f"the endpoint's answer to {what} is not AWS's: check --endpoint-url (or AWS_ENDPOINT_URL) "
            "names an AWS endpoint or the emulator"
        )
    if isinstance(error, botocore.exceptions.ClientError):
        return AwsError(describe(error, what), error_code(error))
    if isinstance(error, botocore.exceptions.BotoCoreError):
        return AwsError(f"{what}: {error}")
    return error


def describe(error: botocore.exceptions.ClientError, what: str) -> str:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "") or code
    operation = error.operation_name
    if code in _ACCESS_DENIED or code.endswith("AccessDenied") or "not authorized" in message:
        return (
            f"access denied: {operation} on {what}: {message}. The credentials in use need permission "
            f"for {operation}; ask an administrator, or use another --profile"
        )
    if code in _THROTTLED:
        return f"AWS is throttling requests ({operation} on {what}) even after retries: wait a minute and run again"
    if code == "ExpiredToken" or code == "ExpiredTokenException":
        return "the AWS credentials have expired: log in again (e.g. `aws sso login`) and run again"
    return f"{operation} on {what} failed: {code}: {message}"


def error_code(error: Exception) -> str:
    if isinstance(error, botocore.exceptions.ClientError):
        return error.response.get("Error", {}).get("Code", "")
    return error.code if isinstance(error, AwsError) else ""
