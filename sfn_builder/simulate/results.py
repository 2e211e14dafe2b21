"""Simulated task results: what each integration returns when its job succeeds.

Derived from the compiled definition alone (the Resource says which API, the
literal Parameters are echoed back as AWS echoes a request), so the local
emulator can use them for any state machine it is given. A report a choice
tests is given the content that takes the first route not leading to a failure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ..asl import inner_blocks
from ..naming import POLL_SWITCH_ROLES

ACCOUNT, REGION = "123456789012", "us-east-1"
STARTED, ENDED = 1767236400.0, 1767237000.0  # 2026-01-01 03:00 UTC, ten minutes later
JOB_SUFFIX = "0123456789ab"
REPORT_RESOURCE = "arn:aws:states:::aws-sdk:s3:getObject"
REPORT_SIZE_RESOURCE = "arn:aws:states:::aws-sdk:s3:headObject"
_FAILURE_STATE = re.compile(r"\.(alert|failed|unmatched|rule-\d+|rethrow|report-too-large)(\.alert)?\Z")
_REPORT_READING = (".report", ".report-size")  # the states that read a step's report
_NAME_FORMAT = re.compile(r"States\.Format\('([^']*)-\{\}'")


def task_states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every Task state in definition order, a Parallel's or Map's own where they stand."""
    return ((name, state) for name, state in all_states(definition) if state["Type"] == "Task")


def all_states(block: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in block["States"].items():
        yield name, state
        for inner in inner_blocks(state):
            yield from all_states(inner)


def is_failure_state(name: str) -> bool:
    return bool(_FAILURE_STATE.search(name))


def reads_report(name: str) -> bool:
    return name.endswith(_REPORT_READING)


def success_result(state: dict[str, Any], reports: dict[str, Any], name: str = "") -> Any:
    """What the task's API returns on success, shaped like the real response (`name`: the state's)."""
    resource, parameters = state["Resource"], _literal(state.get("Parameters", {}))
    job = _job_name(state.get("Parameters", {}))
    if ":sagemaker:" in resource and "Endpoint" in resource:
        probe = name.rpartition(".")[2] == POLL_SWITCH_ROLES[0]  # asks whether it exists, before the update
        return _endpoint(resource.rsplit(":", 1)[1], parameters, probe=probe)
    if resource == "arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync":
        return _tuning_job(job, parameters)
    if resource.startswith("arn:aws:states:::sagemaker:create") and resource.endswith("Job.sync"):
        kind = resource.split(":create", 1)[1].removesuffix("Job.sync")  # Processing, Training, Transform
        return _sagemaker_job(kind, job, parameters)
    if resource == "arn:aws:states:::aws-sdk:sagemaker:createModelPackage":
        group = parameters.get("ModelPackageGroupName", "group").rsplit("/", 1)[-1]
        return {"ModelPackageArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{group.lower()}/1"}
    if resource.startswith("arn:aws:states:::aws-sdk:sagemaker:") and "PipelineExecution" in resource:
        return _pipeline_execution(resource.rsplit(":", 1)[1], job, parameters)
    if resource == "arn:aws:states:::sagemaker:createModel":
        return {"ModelArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{job.lower()}"}
    if resource.startswith("arn:aws:states:::batch:submitJob"):
        return _batch_job(job, parameters)
    if resource == "arn:aws:states:::lambda:invoke":
        payload = reports.get((state.get("ResultPath") or "").removeprefix("$.steps."), {})
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": payload}
    if resource == "arn:aws:states:::sns:publish":
        return {"MessageId": "00000000-0000-4000-8000-000000000000"}
    if resource.startswith("arn:aws:states:::states:startExecution"):
        return {
            "ExecutionArn": f"arn:aws:states:{REGION}:{ACCOUNT}:execution:nested:{job}",
            "Status": "SUCCEEDED",
            "StartDate": STARTED,
            "StopDate": ENDED,
            "Input": "{}",
            "Output": {},
        }
    if resource in (REPORT_RESOURCE, REPORT_SIZE_RESOURCE):
        content = reports.get((state.get("ResultPath") or "").removeprefix("$.steps.").removesuffix(".report"), {})
        body = json.dumps(content)
        head = {"ContentType": "application/json", "ContentLength": len(body.encode())}
        return head if resource == REPORT_SIZE_RESOURCE else {"Body": body, **head}
    return {}


def _sagemaker_job(kind: str, name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    resource_type = {"Processing": "processing-job", "Training": "training-job", "Transform": "transform-job"}[kind]
    result = {
        **{k: v for k, v in parameters.items() if k not in ("Tags", f"{kind}JobName")},
        f"{kind}JobName": name,
        f"{kind}JobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{resource_type}/{name.lower()}",
        f"{kind}JobStatus": "Completed",
        "CreationTime": STARTED,
        "LastModifiedTime": ENDED,
    }
    if kind == "Processing":
        result.update(ProcessingStartTime=STARTED, ProcessingEndTime=ENDED)
    elif kind == "Training":
        output = parameters.get("OutputDataConfig", {}).get("S3OutputPath", "s3://simulated/models/")
        result.update(
            SecondaryStatus="Completed",
            ModelArtifacts={"S3ModelArtifacts": f"{output.rstrip('/')}/{name}/output/model.tar.gz"},
            TrainingStartTime=STARTED,
            TrainingEndTime=ENDED,
            TrainingTimeInSeconds=int(ENDED - STARTED),
            BillableTimeInSeconds=int(ENDED - STARTED),
        )
    else:
        result.update(TransformStartTime=STARTED, TransformEndTime=ENDED)
    return result


def _endpoint(operation: str, parameters: dict[str, Any], *, probe: bool) -> dict[str, Any]:
    """An endpoint that exists (so it is updated) and is InService on the configuration this run made (the
    probe before the update answers with the one before it)."""
    endpoint = parameters.get("EndpointName", "simulated")
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{endpoint.lower()}"
    if operation == "createEndpointConfig":
        return {"EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/simulated-{JOB_SUFFIX}"}
    if operation != "describeEndpoint":  # create and update answer with the ARN alone
        return {"EndpointArn": arn}
    return {
        "EndpointName": endpoint,
        "EndpointArn": arn,
        "EndpointConfigName": f"{endpoint}-{'previous' if probe else 'new'}-configuration",
        "EndpointStatus": "InService",
        "CreationTime": STARTED,
        "LastModifiedTime": ENDED,
    }


SIMULATED_PIPELINE_EXECUTION = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/simulated/execution/{JOB_SUFFIX}"


def _pipeline_execution(operation: str, name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """A pipeline execution that started, and, described, has succeeded (the poll loop ends at once).
    Its ARN names the pipeline the start names; the describe and stop calls read it from the state."""
    pipeline = parameters.get("PipelineName", "simulated").rsplit("/", 1)[-1].lower()
    arn = SIMULATED_PIPELINE_EXECUTION.replace("/simulated/", f"/{pipeline}/")
    if operation != "describePipelineExecution":  # start and stop answer with the ARN alone
        return {"PipelineExecutionArn": arn}
    return {
        "PipelineArn": arn.split("/execution/", 1)[0],
        "PipelineExecutionArn": arn,
        "PipelineExecutionDisplayName": name,
        "PipelineExecutionStatus": "Succeeded",
        "CreationTime": STARTED,
        "LastModifiedTime": ENDED,
    }


def _tuning_job(name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """A tuning job that ran all its training jobs; the first is the best, with each searched
    hyperparameter at the low end of its range."""
    name = name.removesuffix(JOB_SUFFIX) + JOB_SUFFIX[:8]  # tuning job names end in 8 hex
    config = parameters.get("HyperParameterTuningJobConfig", {})
    count = config.get("ResourceLimits", {}).get("MaxNumberOfTrainingJobs", 1)
    objective = config.get("HyperParameterTuningJobObjective", {})
    tuned = {
        item["Name"]: item["Values"][0] if "Values" in item else item["MinValue"]
        for ranges in config.get("ParameterRanges", {}).values()
        for item in ranges
    }
    best = f"{name}-001-{JOB_SUFFIX[:8]}"
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:hyper-parameter-tuning-job/{name.lower()}",
        "HyperParameterTuningJobConfig": config,
        "TrainingJobDefinition": parameters.get("TrainingJobDefinition", {}),
        "HyperParameterTuningJobStatus": "Completed",
        "CreationTime": STARTED,
        "HyperParameterTuningEndTime": ENDED,
        "LastModifiedTime": ENDED,
        "TrainingJobStatusCounters": {
            "Completed": count, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0
        },
        "ObjectiveStatusCounters": {"Succeeded": count, "Pending": 0, "Failed": 0},
        "BestTrainingJob": {
            "TrainingJobName": best,
            "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{best.lower()}",
            "TunedHyperParameters": tuned,
            "CreationTime": STARTED,
            "TrainingStartTime": STARTED,
            "TrainingEndTime": ENDED,
            "TrainingJobStatus": "Completed",
            "FinalHyperParameterTuningJobObjectiveMetric": {
                "Type": objective.get("Type", "Maximize"),
                "MetricName": objective.get("MetricName", "objective"),
                "Value": 0.9,
            },
            "ObjectiveStatus": "Succeeded",
        },
    }


def _batch_job(name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    job_id = "4c7a3f6e-1b2d-4e8f-9a0b-1c2d3e4f5a6b"
    return {
        "JobArn": f"arn:aws:batch:{REGION}:{ACCOUNT}:job/{job_id}",
        "JobName": name,
        "JobId": job_id,
        "JobQueue": parameters.get("JobQueue", ""),
        "JobDefinition": parameters.get("JobDefinition", ""),
        "Status": "SUCCEEDED",
        "StatusReason": "Essential container in task exited",
        "CreatedAt": int(STARTED * 1000),
        "StartedAt": int(STARTED * 1000),
        "StoppedAt": int(ENDED * 1000),
        "Parameters": parameters.get("Parameters", {}),
        "Container": {"ExitCode": 0, "LogStreamName": f"{name}/default/{job_id.replace('-', '')}"},
        "Attempts": [{"Container": {"ExitCode": 0}}],
    }


def _job_name(parameters: dict[str, Any]) -> str:
    for key, value in parameters.items():
        if key.endswith("Name.$") and isinstance(value, str):
            match = _NAME_FORMAT.search(value)
            if match:
                return f"{match.group(1)}-{JOB_SUFFIX}"
    return f"simulated-{JOB_SUFFIX}"


def _literal(value: Any) -> Any:
    """Parameters without the members only known at run time (`Key.$`)."""
    if isinstance(value, dict):
        return {k: _literal(v) for k, v in value.items() if not k.endswith(".$")}
    if isinstance(value, list):
        return [_literal(v) for v in value]
    return value


# -- reports -------------------------------------------------------------------


_USER_JSON = re.compile(r"\$\.steps\.([A-Za-z0-9_]+)(?:\[\*\])?\.(?:report\.content|Payload)((?:\.[A-Za-z0-9_]+)+)")


def report_contents(definition: dict[str, Any], execution_input: dict[str, Any]) -> dict[str, Any]:
    """For each report and Lambda payload (the user's own JSON), by result key: what a choice tests,
    such that it takes its first route not leading to a failure, and `"simulated"` for every other
    member the workflow reads."""
    contents: dict[str, Any] = {}
    document = {"input": execution_input}
    for _, choice in _choices(definition):
        for rule in choice.get("Choices", []):
            if is_failure_state(rule.get("Next", "")):
                continue
            for variable, value in _satisfying(rule, document):
                match = _USER_JSON.fullmatch(variable)
                if match:
                    _set(contents.setdefault(match.group(1), {}), match.group(2)[1:].split("."), value)
            break
    read = {(m.group(1), m.group(2)) for m in _USER_JSON.finditer(json.dumps(definition))}
    for key, path in sorted(read, key=lambda found: -found[1].count(".")):
        _set_absent(contents.setdefault(key, {}), path[1:].split("."), "simulated")
    for _, state in all_states(definition):  # a fallback's result copied whole: it holds what is read of it
        source, target = state.get("InputPath") or "", state.get("ResultPath") or ""
        if state["Type"] == "Pass" and source.startswith("$.steps.") and target.startswith("$.steps."):
            _merge_absent(contents.setdefault(source[len("$.steps.") :], {}), contents.get(target[len("$.steps.") :]))
    return contents


def _merge_absent(node: dict[str, Any], other: Any) -> None:
    for key, value in (other or {}).items():
        if isinstance(value, dict) and isinstance(node.get(key), dict):
            _merge_absent(node[key], value)
        else:
            node.setdefault(key, value)


def _choices(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    return ((name, state) for name, state in all_states(definition) if state["Type"] == "Choice")


def _satisfying(rule: dict[str, Any], document: dict[str, Any], negate: bool = False) -> Iterator[tuple[str, Any]]:
    """(variable, value) pairs that make `rule` hold (or fail, with `negate`)."""
    if "And" in rule and not negate:
        for inner in rule["And"]:
            yield from _satisfying(inner, document)
        return
    if "Or" in rule and not negate:
        yield from _satisfying(rule["Or"][0], document)
        return
    if "Not" in rule:
        yield from _satisfying(rule["Not"], document, not negate)
        return
    variable = rule.get("Variable")
    for test, wanted in rule.items():
        if test in ("Variable", "Next"):
            continue
        if test.endswith("Path"):
            wanted = _lookup(document, wanted)
            test = test.removesuffix("Path")
        if variable is not None and wanted is not None:
            yield variable, _value_for(test, wanted, negate)


def _value_for(test: str, wanted: Any, negate: bool) -> Any:
    if test in ("IsPresent", "IsNull"):
        return None if (test == "IsNull") != negate else "present"
    if test == "StringMatches":
        return wanted.replace("*", "x") if not negate else "does-not-match"
    if test.startswith("Numeric"):
        step = -1 if negate else 1
        if test.endswith("GreaterThan"):
            return wanted + step if not negate else wanted
        if test.endswith("LessThan"):
            return wanted - step if not negate else wanted
        if test.endswith("Equals") and negate:
            return wanted + 1
        if test.endswith("GreaterThanEquals"):
            return wanted if not negate else wanted - 1
        if test.endswith("LessThanEquals"):
            return wanted if not negate else wanted + 1
        return wanted
    if test == "BooleanEquals":
        return wanted != negate
    return wanted if not negate else f"{wanted}-other"


def _lookup(document: dict[str, Any], path: str) -> Any:
    node: Any = document
    for part in path.removeprefix("$.").split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _set_absent(node: Any, parts: list[str], value: Any) -> None:
    """Set a member unless it, or a value on its way, is set already."""
    for part in parts[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.setdefault(parts[-1], value)


def _set(node: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
