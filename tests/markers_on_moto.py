"""Run a compiled network on moto's own interpreter, unpatched: branches in threads, Wait states in real
time, DynamoDB and SendTaskSuccess through moto's in-process backends. So a branch registers its task
token before the step it needs is done, and is released by that step's signal (the path the simulator,
which runs branches one after another, never takes).

    python tests/markers_on_moto.py SPEC  ->  JSON: the status, each state's entry and exit times, the
    markers left in the table and each task's request
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REGION = "us-east-1"


def _aws_sdk_parameters_as_boto_names() -> None:
    """moto's port of the interpreter leaves an AWS SDK task's parameters as written (PascalCase, as
    Step Functions takes them); botocore wants the API's own names (`taskToken` for Step Functions).
    LocalStack, which moto's interpreter comes from, converts them: so does this harness."""
    import botocore.session
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
        StateTaskServiceAwsSdk,
    )

    models = botocore.session.get_session()

    def normalise(self, parameters, boto_service_name=None, service_action_name=None):
        service = self._get_boto_service_name(boto_service_name)
        action = service_action_name or self.resource.api_action
        operation = models.get_service_model(service).operation_model(action[:1].upper() + action[1:])
        self._to_boto_request(parameters, operation.input_shape)

    StateTaskServiceAwsSdk._normalise_parameters = normalise


def main(spec: str) -> None:
    import boto3
    from moto import mock_aws

    from sfn_builder.compiler import compile_analysis
    from sfn_builder.naming import markers_table
    from sfn_builder.validate import analyze_file

    _aws_sdk_parameters_as_boto_names()
    compilation = compile_analysis(analyze_file(spec))
    assert compilation.ok, [p.render() for p in compilation.problems]
    workflow, definition = compilation.analysis.workflow, compilation.definition
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=markers_table(workflow.name),
            AttributeDefinitions=[{"AttributeName": "marker", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "marker", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sns = boto3.client("sns", region_name=REGION)
        for step in workflow.steps.values():  # the topics the spec's sns steps publish to
            if step.type == "sns":
                sns.create_topic(Name=str(step.config["topic"]).rsplit(":", 1)[-1])
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(
            name=workflow.name,
            definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/markers",
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
        deadline = time.monotonic() + 60
        while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        status = sfn.describe_execution(executionArn=execution)["status"]
        events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        left = dynamodb.scan(TableName=markers_table(workflow.name))["Items"]
    times: dict[str, dict[str, float]] = {}
    for event in events:
        stamp = event["timestamp"].timestamp()
        if "stateEnteredEventDetails" in event:
            times.setdefault(event["stateEnteredEventDetails"]["name"], {})["entered"] = stamp
        if "stateExitedEventDetails" in event:
            times.setdefault(event["stateExitedEventDetails"]["name"], {})["exited"] = stamp
    requests = _task_parameters(events)
    print(json.dumps({"status": status, "times": times, "markers_left": len(left), "requests": requests}))


def _task_parameters(events: list[dict]) -> dict[str, object]:
    """Each task state's request, by state name."""
    by_id = {event["id"]: event for event in events}
    found: dict[str, object] = {}
    for event in events:
        details = event.get("taskScheduledEventDetails")
        if details:
            entered = by_id.get(event["previousEventId"], {}).get("stateEnteredEventDetails", {})
            found[entered.get("name", "?")] = json.loads(details["parameters"])
    return found


if __name__ == "__main__":
    main(sys.argv[1])
