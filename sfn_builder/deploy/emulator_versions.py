"""The emulator's state machine versions and aliases, where moto 5 stops short of AWS.

moto publishes versions (CreateStateMachine/UpdateStateMachine with `publish`) and
keeps aliases, but has no PublishStateMachineVersion, ListStateMachineVersions or
DeleteStateMachineVersion, and cannot start an execution of a version or alias
ARN. `install()` adds those, as AWS documents them: publishing an unchanged
revision answers with the latest version, a version an alias routes to cannot be
deleted, an alias start picks a version by the alias's weights, and executions
report the version and alias they were started with.
"""

from __future__ import annotations

import copy
import random
from typing import Any

# execution ARN -> (version ARN, alias ARN or None), for the executions started with a qualified ARN
_QUALIFIED: dict[str, tuple[str, str | None]] = {}


def install() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.stepfunctions.responses import StepFunctionResponse

    _start_qualified(StepFunctionsParserBackend)
    StepFunctionResponse.publish_state_machine_version = _publish
    StepFunctionResponse.list_state_machine_versions = _list_versions
    StepFunctionResponse.delete_state_machine_version = _delete_version
    _report_qualifiers(StepFunctionResponse)


def _error(kind: str, message: str) -> Exception:
    from moto.core.exceptions import AWSError

    error_class = type(kind, (AWSError,), {"TYPE": kind, "STATUS": 400})
    return error_class(message)


def _machine(backend: Any, arn: str) -> Any:
    from moto.stepfunctions.exceptions import StateMachineDoesNotExist

    machine = next((m for m in backend.state_machines if m.arn == arn), None)
    if machine is None:
        raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
    return machine


def _configuration(instance: Any) -> tuple[Any, ...]:
    return (instance.definition, instance.roleArn, instance.loggingConfiguration, instance.type)


def _publish(self: Any) -> Any:
    """PublishStateMachineVersion: a version of the current revision (the latest one if it already is)."""
    from moto.core.responses import ActionResult

    machine = _machine(self.stepfunction_backend, self._get_param("stateMachineArn"))
    latest = machine.latest_version
    if latest is None or _configuration(latest) != _configuration(machine):
        machine.publish(self._get_param("description"))
        latest = machine.latest_version
    return ActionResult({"creationDate": latest.creation_date, "stateMachineVersionArn": latest.arn})


def _list_versions(self: Any) -> Any:
    """ListStateMachineVersions: newest first."""
    from moto.core.responses import ActionResult

    machine = _machine(self.stepfunction_backend, self._get_param("stateMachineArn"))
    versions = sorted(machine.versions.values(), key=lambda v: v.version, reverse=True)
    listed = [{"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in versions]
    return ActionResult({"stateMachineVersions": listed})


def _delete_version(self: Any) -> Any:
    """DeleteStateMachineVersion: refused while an alias routes to the version; a missing one is no error."""
    from moto.core.responses import EmptyResult

    arn = self._get_param("stateMachineVersionArn")
    machine_arn, _, number = arn.rpartition(":")
    machine = next((m for m in self.stepfunction_backend.state_machines if m.arn == machine_arn), None)
    if machine is None or not number.isdigit() or int(number) not in machine.versions:
        return EmptyResult()
    for alias in machine.aliases.values():
        if any(route["stateMachineVersionArn"] == arn for route in alias.routing_configuration):
            raise _error("ConflictException", f"Version {arn} is referenced by the alias {alias.arn}")
    del machine.versions[int(number)]
    remaining = sorted(machine.versions)
    machine.latest_version = machine.versions[remaining[-1]] if remaining else None
    return EmptyResult()


def _resolved(backend: Any, arn: str) -> tuple[Any, Any, str | None] | None:
    """(state machine, version, alias ARN) for a version or alias ARN; None for an unqualified one."""
    from moto.stepfunctions.exceptions import ResourceNotFound

    parts = arn.split(":")
    if len(parts) != 8:
        return None
    machine = _machine(backend, ":".join(parts[:7]))
    qualifier = parts[7]
    if qualifier.isdigit():
        version = machine.versions.get(int(qualifier))
        if version is None:
            raise ResourceNotFound(arn)
        return machine, version, None
    alias = machine.aliases.get(qualifier)
    if alias is None:
        raise ResourceNotFound(arn)
    routes = alias.routing_configuration
    chosen = random.choices(routes, weights=[route["weight"] for route in routes])[0]
    version = machine.versions.get(int(chosen["stateMachineVersionArn"].rsplit(":", 1)[1]))
    if version is None:
        raise ResourceNotFound(chosen["stateMachineVersionArn"])
    return machine, version, alias.arn


def _start_qualified(backend_class: Any) -> None:
    """StartExecution on a version or alias ARN runs that version's definition, role and logging as an
    execution of the state machine (listed with it, as AWS lists it)."""
    original = backend_class.start_execution

    def start_execution(self: Any, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
        resolved = _resolved(self, state_machine_arn)
        if resolved is None:
            return original(self, state_machine_arn, *args, **kwargs)
        machine, version, alias_arn = resolved
        view = copy.copy(machine)  # shares the executions list and backend with the state machine
        view.definition, view.roleArn = version.definition, version.roleArn
        view.loggingConfiguration, view.type = version.loggingConfiguration, version.type
        execution = original(_Answering(self, machine.arn, view), machine.arn, *args, **kwargs)
        _QUALIFIED[execution.execution_arn] = (version.arn, alias_arn)
        return execution

    backend_class.start_execution = start_execution


class _Answering:
    """The backend, answering DescribeStateMachine for one ARN with a given view of that state machine."""

    def __init__(self, backend: Any, arn: str, view: Any) -> None:
        self._backend, self._arn, self._view = backend, arn, view

    def describe_state_machine(self, arn: str) -> Any:
        return self._view if arn == self._arn else self._backend.describe_state_machine(arn)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


def _report_qualifiers(response_class: Any) -> None:
    """DescribeExecution and ListExecutions name the version and alias an execution was started with."""
    describe, listing = response_class.describe_execution, response_class.list_executions

    def describe_execution(self: Any) -> Any:
        result = describe(self)
        _qualify(result.result, result.result.get("executionArn"))
        return result

    def list_executions(self: Any) -> Any:
        result = listing(self)
        for item in result.result.get("executions", []):
            _qualify(item, item.get("executionArn"))
        return result

    response_class.describe_execution = describe_execution
    response_class.list_executions = list_executions


def _qualify(answer: dict[str, Any], execution_arn: str | None) -> None:
    qualified = _QUALIFIED.get(execution_arn or "")
    if qualified is None:
        return
    version_arn, alias_arn = qualified
    answer["stateMachineVersionArn"] = version_arn
    if alias_arn is not None:
        answer["stateMachineAliasArn"] = alias_arn
