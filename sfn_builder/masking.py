"""Secrets out of what sfn-build prints: environment values, job parameters, credential look-alikes.

A value is masked when it sits in an `Environment` (SageMaker's map, Batch's Name/Value
list), in a Batch request's `Parameters`, under a key that names a credential
(words such as `password`, `secret`, `token`, `api key`), after such a flag in a command line
(`--password x`, `--token=x`), or when it looks like one itself (an AWS access key
id, a private key block, ...). It prints as `***` and a short tag keyed per run:
two values print the same tag only when they are equal, so a diff still shows a
change, but the tag says nothing about the value.

The compiled definition itself (`compile`, `export`) is the artifact AWS runs and
keeps every value: that is why secrets belong in Secrets Manager or SSM (see
docs/security.md), and why `validate` warns about a literal that looks like one.
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any

SECRET_WORDS = frozenset({"password", "passwd", "passphrase", "pwd", "secret", "token", "credential", "credentials"})
SECRET_PAIRS = frozenset({("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key"), ("auth", "token")})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
SECRET_TEXT = re.compile(
    r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"  # AWS access key ids
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|\bgh[pousr]_[A-Za-z0-9]{36,}"  # GitHub tokens
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+"  # JWTs
    r"|://[^/\s:@]+:[^/\s@]+@"  # passwords in URLs
)
_FLAG = re.compile(r"^--?([A-Za-z0-9_.-]+)(=(.*))?\Z", re.DOTALL)
MASKED_CONTAINERS = ("Environment",)


def mask(value: str) -> str:
    """`***` and a tag equal for equal values within this run."""
    import hashlib
    import hmac

    tag = hmac.new(_run_key(), value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:4]
    return f"***{tag}"


@functools.cache
def _run_key() -> bytes:
    """Per process: tags compare values within one run only. (hashlib, hmac and secrets load OpenSSL:
    imported when something is masked, not at every start.)"""
    import secrets

    return secrets.token_bytes(16)


def secret_name(name: str) -> bool:
    """Whether a key or flag names a credential: `DB_PASSWORD`, `hfToken`, `--api-key`; not `max_tokens`."""
    words = [word.lower() for word in _WORD.findall(name)]
    pairs = itertools.pairwise(words)
    return any(word in SECRET_WORDS for word in words) or any(pair in SECRET_PAIRS for pair in pairs)


def looks_secret(text: str) -> bool:
    """Whether a text holds something shaped like a credential."""
    return bool(SECRET_TEXT.search(text))


def masked(value: Any, *, parents: tuple[str, ...] = ()) -> Any:
    """A copy of a JSON value with every secret-looking value masked (see the module's rules)."""
    if isinstance(value, dict):
        if _masks_members(parents):
            return {key: _hide(member) for key, member in value.items()}
        return {
            key: _hide(member)
            if secret_name(_bare(key)) and not isinstance(member, dict | list)
            else masked(member, parents=(*parents, _bare(key)))
            for key, member in value.items()
        }
    if isinstance(value, list):
        if parents[-1:] == ("Environment",):  # Batch: [{"Name": ..., "Value": ...}]
            return [_entry(item) if isinstance(item, dict) else _hide(item) for item in value]
        return _command_line(value, parents)
    if isinstance(value, str) and looks_secret(value):
        return mask(value)
    return value


def masked_text(text: str) -> str:
    """A message with credential-shaped parts masked (AWS error causes, for example)."""
    return SECRET_TEXT.sub(lambda match: mask(match.group()), text)


def _masks_members(parents: tuple[str, ...]) -> bool:
    """An `Environment` map, or a Batch request's `Parameters` (the task's Parameters' Parameters)."""
    return parents[-1:] == ("Environment",) or parents[-2:] == ("Parameters", "Parameters")


def _command_line(items: list[Any], parents: tuple[str, ...]) -> list[Any]:
    """Arguments, with the value of each credential-named flag masked (`--token x`, `--token=x`)."""
    out: list[Any] = []
    hide_next = False
    for item in items:
        if hide_next and isinstance(item, str):
            out.append(mask(item))
            hide_next = False
            continue
        hide_next = False
        flag = _FLAG.match(item) if isinstance(item, str) else None
        if flag and secret_name(flag.group(1)):
            if flag.group(2) is not None:
                out.append(f"{item[: len(item) - len(flag.group(3))]}{mask(flag.group(3))}")
            else:
                out.append(item)
                hide_next = True
            continue
        out.append(masked(item, parents=parents))
    return out


def _hide(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dict | list):
        return masked(value, parents=("Environment",))
    return mask(str(value))


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _hide(member) if _bare(key) == "Value" else member for key, member in item.items()}


def _bare(key: str) -> str:
    return key[:-2] if key.endswith(".$") else key
