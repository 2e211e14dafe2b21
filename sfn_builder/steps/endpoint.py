"""`endpoint`: put a model behind a SageMaker endpoint, creating or updating it, and wait until InService.

The SageMaker SDK's `model.deploy(endpoint_name=..., update_endpoint=True)` as a step.
Each run makes a new endpoint configuration (`<workflow>--<step>-<hex>`, CreateEndpointConfig),
then asks whether the endpoint exists (DescribeEndpoint): a new one is created, an existing
one updated to the new configuration (with `alarms`, SageMaker rolls the update back when one
of them goes off during the deployment). Then it polls the endpoint (module `poll_states`) until
it is InService on the new configuration. Failed fails the step with `SageMaker.EndpointFailed`;
InService on the previous configuration (rolled back) with `SageMaker.EndpointUpdateRolledBack`.
The endpoint is the team's once made: `delete` never removes it (it serves traffic).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

from ..model import Step, Workflow
from ..naming import job_prefix
from ..problems import Problem
from .base import Arns, Expr, JobEvents, ResultShape, StepKind, job_name, literal, require, statement, tag_list
from .model_step import model_problems, served_model
from .polling import Polling, Switch, check_polling
from .sagemaker_common import check_common, without_none

CONFIG = "$.poll.config"  # the endpoint configuration this run makes (its name, computed once)
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}\Z")
DESCRIBE = "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint"
CREATE = "arn:aws:states:::sagemaker:createEndpoint"
UPDATE = "arn:aws:states:::sagemaker:updateEndpoint"


class Endpoint(StepKind):
    type = "endpoint"
    resource = "arn:aws:states:::aws-sdk:sagemaker:createEndpointConfig"
    api = ("sagemaker", "CreateEndpointConfig")
    result = ResultShape("sagemaker", "DescribeEndpointOutput")
    summary = ("EndpointName", "EndpointArn", "EndpointConfigName", "EndpointStatus")
    has_result = True
    error_prefix = "SageMaker"
    general_error = "SageMakerException"
    owned_members = MappingProxyType(
        {
            "EndpointConfigName": "sfn-build names one configuration per run of the step (the policy is scoped "
            "to that name)",
        }
    )
    calls = MappingProxyType(
        {
            DESCRIBE: ("sagemaker", "DescribeEndpoint"),
            CREATE: ("sagemaker", "CreateEndpoint"),
            UPDATE: ("sagemaker", "UpdateEndpoint"),
        }
    )
    polling = Polling(
        started={},
        describe=DESCRIBE,
        status="EndpointStatus",
        succeeded=("InService",),
        failed={"Failed": "EndpointFailed", "UpdateRollbackFailed": "EndpointUpdateRollbackFailed"},
        stop=None,
        timed_out="EndpointTimedOut",
        noun="endpoint deployment",
        unchanged=("EndpointConfigName", "EndpointUpdateRolledBack"),
    )

    job_events = JobEvents(
        "aws.sagemaker",
        "SageMaker Endpoint State Change",
        "EndpointName",
        "EndpointStatus",
        {"Failed": "FAILED", "Completed": "IN_SERVICE"},  # as AWS's sample event spells them
        "FailureReason",
        frozenset(),  # AWS documents no failure reason in these events
        "/sagemaker/home?region=<region>#/endpoints/<job>",
        exact_name=True,
    )

    def job_prefix(self, workflow: Workflow, step: Step) -> str:
        """An endpoint is named by the spec, not after the workflow: its events match that name."""
        return step.config["endpoint"]

    def iam_statements(self, step: Step, workflow: Workflow, arns: Arns) -> list[dict[str, Any]]:
        endpoint = arns.arn("sagemaker", f"endpoint/{step.config['endpoint'].lower()}")
        configs = arns.arn("sagemaker", f"endpoint-config/{job_prefix(workflow.name, step.name).lower()}-*")
        return [
            statement(["sagemaker:CreateEndpointConfig", "sagemaker:AddTags"], [configs]),
            statement(["sagemaker:DescribeEndpoint"], [endpoint]),
            statement(
                ["sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:AddTags"], [endpoint, configs]
            ),
            statement(["sagemaker:ListTags"], ["*"]),  # as in every policy AWS generates for SageMaker tasks
        ]

    def checks(self, step: Step, workflow: Workflow) -> Iterator[Problem]:
        yield from require(step, self, "endpoint", "model", "instance_type")
        yield from check_common(self, step)
        base = ("steps", step.name)
        endpoint = literal(step.config.get("endpoint"))
        if endpoint is None and "endpoint" in step.config:
            yield Problem(
                "the endpoint is named in the spec, not by a template: the policy grants deploying to that endpoint",
                (*base, "endpoint"),
                hint="write the endpoint's name",
            )
        elif endpoint is not None and not _NAME.match(endpoint):
            yield Problem(
                f"{endpoint!r} is not a SageMaker endpoint name",
                (*base, "endpoint"),
                hint="an endpoint's name is 1-63 letters, digits and hyphens",
            )
        yield from model_problems(step, workflow, "the endpoint serves")
        yield from check_polling(step)

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        config = step.config
        variant = without_none(
            {
                "VariantName": config.get("variant", "AllTraffic"),
                "ModelName": served_model(step, workflow),
                "InstanceType": config.get("instance_type"),
                "InitialInstanceCount": config.get("instance_count", 1),
                "InitialVariantWeight": 1.0,
            }
        )
        return {"EndpointConfigName": Expr(CONFIG), "ProductionVariants": [variant], "Tags": tag_list(workflow)}

    def poll_memory(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        return {"config": job_name(workflow, step)}

    def switch(self, step: Step, workflow: Workflow) -> Switch:
        endpoint = step.config["endpoint"]
        alarms = [{"AlarmName": name} for name in step.config.get("alarms") or []]
        deployment = {"AutoRollbackConfiguration": {"Alarms": alarms}} if alarms else None
        return Switch(
            probe=(DESCRIBE, {"EndpointName": endpoint}),
            missing=("SageMaker.SageMakerException",),  # DescribeEndpoint of no endpoint: a ValidationException
            create=(CREATE, {"EndpointName": endpoint, "EndpointConfigName": Expr(CONFIG), "Tags": tag_list(workflow)}),
            update=(
                UPDATE,
                without_none(
                    {"EndpointName": endpoint, "EndpointConfigName": Expr(CONFIG), "DeploymentConfig": deployment}
                ),
            ),
        )

    def describe_parameters(self, step: Step) -> dict[str, Any]:
        return {"EndpointName": step.config["endpoint"]}
