"""The generated role allows exactly what each request needs, and no other workflow's jobs.

For every example and a spec with every step type, a simulated run gives each
task's request as Step Functions evaluates it (job names, roles, topics). From
it come the actions and resource ARNs AWS evaluates for that integration (as
AWS's "IAM policies for integrated services" pages list them, with ARNs formed
as AWS forms them: SageMaker lowercases job names; Batch names a job
definition with its revision). Each action must exist in the Service
Authorization Reference shipped in parliament, each ARN must fit one of the
action's resource formats there, and the generated policy must allow it.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import parliament
import pytest
from conftest import ROOT, WORKFLOWS, compile_text
from hypothesis import given
from hypothesis import strategies as st
from moto.events.models import EventPattern
from test_runtime_values import specs_at_limits

from sfn_builder.compiler import compile_analysis
from sfn_builder.deploy.alerts import alert_rules
from sfn_builder.deploy.iam import execution_policy
from sfn_builder.deploy.resources import topic_arn
from sfn_builder.naming import job_name_expression
from sfn_builder.simulate import engine
from sfn_builder.simulate.engine import ACCOUNT, REGION
from sfn_builder.simulate.mock_config import success_case
from sfn_builder.steps.base import Arns
from sfn_builder.validate import analyze_file

ARNS = Arns("aws", REGION, ACCOUNT)
Need = tuple[str, str, dict[str, str]]  # action, resource ARN, request context


def arn(service: str, resource: str, regional: bool = True) -> str:
    return f"arn:aws:{service}:{REGION if regional else ''}:{ACCOUNT if regional else ''}:{resource}"


def sync_rule(name: str) -> list[Need]:
    rule = arn("events", f"rule/{name}")
    return [(f"events:{a}", rule, {}) for a in ("PutTargets", "PutRule", "DescribeRule")]


def sagemaker_job(kind: str, resource_type: str, name_member: str, parameters: dict[str, Any]) -> list[Need]:
    job = arn("sagemaker", f"{resource_type}/{parameters[name_member].lower()}")
    needs = [(f"sagemaker:{a}{kind}Job", job, {}) for a in ("Create", "Describe", "Stop")]
    needs += [("sagemaker:AddTags", job, {}), ("sagemaker:ListTags", job, {})]
    needs += [("iam:PassRole", parameters["RoleArn"], {"iam:PassedToService": "sagemaker.amazonaws.com"})]
    return needs + sync_rule(f"StepFunctionsGetEventsForSageMaker{kind}JobsRule")


def batch_job(parameters: dict[str, Any]) -> list[Need]:
    job = arn("batch", "job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8")
    definition = parameters["JobDefinition"]
    if not definition.startswith("arn:"):
        definition = arn("batch", f"job-definition/{definition}")
    if not definition.rsplit(":", 1)[1].isdigit():
        definition += ":7"  # AWS resolves a definition named without its revision to its latest one
    queue = parameters["JobQueue"]
    queue = queue if queue.startswith("arn:") else arn("batch", f"job-queue/{queue}")
    needs = [("batch:SubmitJob", resource, {}) for resource in (job, definition, queue)]
    needs += [("batch:DescribeJobs", "*", {}), ("batch:TerminateJob", job, {}), ("batch:TagResource", job, {})]
    return needs + sync_rule("StepFunctionsGetEventsForBatchJobsRule")


def nested_execution(parameters: dict[str, Any]) -> list[Need]:
    machine = parameters["StateMachineArn"]
    execution = machine.replace(":stateMachine:", ":execution:") + ":" + parameters["Name"]
    needs = [("states:StartExecution", machine, {})]
    needs += [(f"states:{a}Execution", execution, {}) for a in ("Describe", "Stop")]
    return needs + sync_rule("StepFunctionsGetEventsForStepFunctionsExecutionRule")


def needs_of(resource: str, parameters: dict[str, Any]) -> list[Need]:
    """What AWS evaluates when Step Functions calls this integration with these parameters."""
    integration = resource.split(":::", 1)[1]
    for kind, resource_type in (
        ("Processing", "processing-job"),
        ("Training", "training-job"),
        ("Transform", "transform-job"),
    ):
        if integration == f"sagemaker:create{kind}Job.sync":
            role = {"Transform": {"RoleArn": None}}.get(kind, {})
            needs = sagemaker_job(kind, resource_type, f"{kind}JobName", {**parameters, **role})
            return [n for n in needs if n[1] is not None]
    if integration == "sagemaker:createHyperParameterTuningJob.sync":
        job = arn("sagemaker", f"hyper-parameter-tuning-job/{parameters['HyperParameterTuningJobName'].lower()}")
        actions = ("Create", "Describe", "Stop")
        needs = [(f"sagemaker:{a}HyperParameterTuningJob", job, {}) for a in actions]
        reads = ("AddTags", "ListTags", "ListTrainingJobsForHyperParameterTuningJob")
        needs += [(f"sagemaker:{a}", job, {}) for a in reads]
        role = parameters["TrainingJobDefinition"]["RoleArn"]
        needs += [("iam:PassRole", role, {"iam:PassedToService": "sagemaker.amazonaws.com"})]
        return needs + sync_rule("StepFunctionsGetEventsForSageMakerTuningJobsRule")
    if integration == "aws-sdk:sagemaker:createModelPackage":
        group = parameters["ModelPackageGroupName"]
        package = arn("sagemaker", f"model-package/{group.lower()}/3")  # a group's versions are numbered
        group_arn = arn("sagemaker", f"model-package-group/{group}")
        return [("sagemaker:CreateModelPackage", resource, {}) for resource in (group_arn, package)]
    if integration == "sagemaker:createModel":
        model = arn("sagemaker", f"model/{parameters['ModelName'].lower()}")
        passed = {"iam:PassedToService": "sagemaker.amazonaws.com"}
        return [
            ("sagemaker:CreateModel", model, {}),
            ("sagemaker:AddTags", model, {}),
            ("iam:PassRole", parameters["ExecutionRoleArn"], passed),
        ]
    if integration == "batch:submitJob.sync":
        return batch_job(parameters)
    if integration == "states:startExecution.sync:2":
        return nested_execution(parameters)
    if integration == "lambda:invoke":
        function = parameters["FunctionName"]
        return [
            (
                "lambda:InvokeFunction",
                function if function.startswith("arn:") else arn("lambda", f"function:{function}"),
                {},
            )
        ]
    if integration == "sns:publish":
        return [("sns:Publish", parameters["TopicArn"], {})]
    if integration == "aws-sdk:sagemaker:startPipelineExecution":
        return [("sagemaker:StartPipelineExecution", arn("sagemaker", f"pipeline/{parameters['PipelineName']}"), {})]
    if integration in ("aws-sdk:sagemaker:describePipelineExecution", "aws-sdk:sagemaker:stopPipelineExecution"):
        action = "Describe" if "describe" in integration else "Stop"
        return [(f"sagemaker:{action}PipelineExecution", parameters["PipelineExecutionArn"], {})]
    if integration == "aws-sdk:sagemaker:createEndpointConfig":
        config = arn("sagemaker", f"endpoint-config/{parameters['EndpointConfigName'].lower()}")
        return [(action, config, {}) for action in ("sagemaker:CreateEndpointConfig", "sagemaker:AddTags")]
    if integration in ("aws-sdk:sagemaker:describeEndpoint", "sagemaker:createEndpoint", "sagemaker:updateEndpoint"):
        endpoint = arn("sagemaker", f"endpoint/{parameters['EndpointName'].lower()}")
        action = {"aws-sdk:sagemaker:describeEndpoint": "Describe", "sagemaker:createEndpoint": "Create"}.get(
            integration, "Update"
        )
        needs = [(f"sagemaker:{action}Endpoint", endpoint, {})]
        if action != "Describe":
            config = arn("sagemaker", f"endpoint-config/{parameters['EndpointConfigName'].lower()}")
            needs += [(f"sagemaker:{action}Endpoint", config, {}), ("sagemaker:AddTags", endpoint, {})]
        return needs
    if integration in ("aws-sdk:s3:getObject", "aws-sdk:s3:headObject"):  # HeadObject is authorised as GetObject
        return [("s3:GetObject", f"arn:aws:s3:::{parameters['Bucket']}/{parameters['Key']}", {})]
    raise AssertionError(f"no IAM model for {resource}")


def allowed(policy: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    """IAM's evaluation of an Allow-only policy: wildcards in actions and resources, the conditions we use."""
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if not any(fnmatchcase(action.lower(), a.lower()) for a in actions):
            continue
        if not any(fnmatchcase(resource, r) for r in resources):
            continue
        conditions = statement.get("Condition", {})
        if all(context.get(key) == value for test in conditions.values() for key, value in test.items()):
            return True
    return False


def in_the_reference(action: str, resource: str) -> bool:
    """The action exists, and the ARN fits one of its resource types' formats (or it takes '*')."""
    service, name = action.split(":")
    # a prefix may span several entries of the reference (iam: IAM and IAM Access Analyzer, ...)
    (entry, privilege), *_ = [
        (s, p)
        for s in parliament.iam_definition
        if s["prefix"] == service
        for p in s["privileges"]
        if p["privilege"] == name
    ]
    types = [t["resource_type"].rstrip("*") for t in privilege["resource_types"] if t["resource_type"]]
    if resource == "*":
        return not types or name in ("ListTags",)  # AWS's own policies grant these on '*'
    formats = [r for r in entry["resources"] if r["resource"] in types or r["resource"] == "job-definition-revision"]
    return any(parliament.is_arn_match(r["resource"], re.sub(r"\$\{[^}]*\}", "*", r["arn"]), resource) for r in formats)


def run_requests(compilation: Any) -> list[tuple[str, dict[str, Any]]]:
    workflow, definition = compilation.analysis.workflow, compilation.definition
    run = engine.run(definition, workflow.name, {}, success_case(definition, {}), execution="rerun(1)")
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    requests = []
    for event in run.events:
        details = event.get("taskScheduledEventDetails")
        if details:
            resource = f"arn:aws:states:::{details['resourceType']}:{details['resource']}"
            requests.append((resource, json.loads(details["parameters"])))
    return requests


SPECS: dict[str, str | Path] = {path.stem: path for path in WORKFLOWS}  # an example may include files
SPECS["every-step-type"] = specs_at_limits()
SPECS["batch-by-arn"] = """
version: 1
name: batch-by-arn
steps:
  export:
    type: batch
    job_queue: arn:aws:batch:us-east-1:123456789012:job-queue/ml-cpu
    job_definition: arn:aws:batch:us-east-1:123456789012:job-definition/export
"""


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_role_allows_every_request_each_step_makes(write_spec, name):
    spec = SPECS[name]
    compilation = (
        compile_analysis(analyze_file(str(spec))) if isinstance(spec, Path) else compile_text(write_spec, spec)
    )
    assert compilation.ok, [p.render() for p in compilation.problems]
    workflow = compilation.analysis.workflow
    policy = execution_policy(workflow, ARNS, topic_arn(workflow, ARNS))
    checked = 0
    for resource, parameters in run_requests(compilation):
        for action, target, context in needs_of(resource, parameters):
            assert in_the_reference(action, target), (action, target)
            assert allowed(policy, action, target, context), (resource, action, target)
            checked += 1
    assert checked > 0


def test_a_role_is_not_passed_to_other_services_nor_other_roles(write_spec):
    compilation = compile_analysis(analyze_file(str(SPECS["churn-training"])))
    workflow = compilation.analysis.workflow
    policy = execution_policy(workflow, ARNS, topic_arn(workflow, ARNS))
    role = "arn:aws:iam::111122223333:role/churn-sagemaker"
    assert allowed(policy, "iam:PassRole", role, {"iam:PassedToService": "sagemaker.amazonaws.com"})
    assert not allowed(policy, "iam:PassRole", role, {"iam:PassedToService": "ec2.amazonaws.com"})
    assert not allowed(policy, "iam:PassRole", arn("iam", "role/admin", regional=False), {})


# -- no workflow covers another's jobs ------------------------------------------

ONE_STEP = """
version: 1
name: {workflow}
defaults:
  sagemaker:
    role: arn:aws:iam::123456789012:role/ml
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/ml:1
    instance_type: ml.m5.xlarge
steps:
  {step}:
    type: processing
    entrypoint: [python3, run.py]
notifications:
  topic: arn:aws:sns:us-east-1:123456789012:alerts
  on_jobs: [Failed]
"""


def job_of(workflow: str, step: str) -> str:
    """A job name as Step Functions evaluates the compiler's expression."""
    prefix = job_name_expression(workflow, step).split("'")[1].removesuffix("-{}")
    return f"{prefix}-0123456789ab"


def covers(write_spec, owner: tuple[str, str], job: str) -> list[str]:
    """What of `owner`'s role and rules reaches the processing job `job`."""
    workflow, step = owner
    compilation = compile_text(write_spec, ONE_STEP.format(workflow=workflow, step=step))
    assert compilation.ok, [p.render() for p in compilation.problems]
    model = compilation.analysis.workflow
    policy = execution_policy(model, ARNS, topic_arn(model, ARNS))
    found = []
    if allowed(policy, "sagemaker:StopProcessingJob", arn("sagemaker", f"processing-job/{job.lower()}"), {}):
        found.append("role")
    event = {
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Processing Job State Change",
        "detail": {"ProcessingJobName": job, "ProcessingJobStatus": "Failed", "FailureReason": "x"},
    }
    machine = arn("states", f"stateMachine:{workflow}")
    for rule in alert_rules(model, machine, compilation.definition):
        if EventPattern.load(json.dumps(rule.pattern)).matches_event(event):
            found.append(rule.suffix)
    return found


PAIRS = [
    (("churn", "training_clean_events"), ("churn-training", "clean_events")),  # the collision
    (("churn_training", "prep"), ("churn-training", "prep")),  # names that differ in '_' and '-'
    (("Churn", "prep"), ("churn", "prep")),  # SageMaker lowercases job names in ARNs
    (("a" * 30 + "x", "prep"), ("a" * 30 + "y", "prep")),  # long names sharing their start
    (("ml", "prep"), ("ml-prep", "x")),  # a workflow named like another's job prefix
]


@pytest.mark.parametrize(("first", "second"), PAIRS + [(b, a) for a, b in PAIRS])
def test_no_workflow_s_role_or_rules_cover_another_s_jobs(write_spec, first, second):
    assert covers(write_spec, second, job_of(*first)) == []
    assert covers(write_spec, first, job_of(*first)) == ["role", "sagemaker-processing-job-alerts"]


workflow_names = st.text("abcAB_-0", min_size=1, max_size=40).filter(lambda n: n[0].isalnum())


@given(first=workflow_names, second=workflow_names, step=st.sampled_from(["prep", "p", "prep_all", "a-b"]))
def test_job_prefixes_of_different_workflows_never_cover_each_other(first, second, step):
    if first == second:
        return
    one, other = job_of(first, step).rsplit("-", 1)[0], job_of(second, step)
    assert not other.lower().startswith(one.lower() + "-")
    workflow_part = one.split("--", 1)[0] + "--"
    assert not other.lower().startswith(workflow_part.lower())


def test_a_large_workflow_s_role_fits_iam_and_still_covers_only_its_own_jobs(write_spec):
    header, rest = ONE_STEP.split("steps:\n")
    step, notifications = rest.split("notifications:")
    steps = "".join(step.replace("{step}", f"s{n}") for n in range(200))
    report = (  # a key the spec names that starts like the workflow's job names: not widened
        "  reporting:\n    type: processing\n    entrypoint: [python3, run.py]\n"
        "    outputs: [{{name: r, source: /opt/ml/processing/output,"
        " destination: 's3://ml-reports/big--r-${{execution.name}}/'}}]\n"
        "    report: {{output: r, file: r.json}}\n"
    )
    text = header + "steps:\n" + steps + report + "notifications:" + notifications
    compilation = compile_text(write_spec, text.format(workflow="big"))
    assert compilation.ok, [p.render() for p in compilation.problems]
    model = compilation.analysis.workflow
    policy = execution_policy(model, ARNS, topic_arn(model, ARNS))
    assert len(json.dumps(policy, separators=(",", ":"))) <= 10_240  # a role's inline policies, in IAM
    for workflow, covered in (("big", True), ("bigger", False), ("big-x", False)):
        job = arn("sagemaker", f"processing-job/{job_of(workflow, 's57').lower()}")
        assert allowed(policy, "sagemaker:CreateProcessingJob", job, {}) is covered, workflow
    assert allowed(policy, "s3:GetObject", "arn:aws:s3:::ml-reports/big--r-run1/r.json", {})
    assert not allowed(policy, "s3:GetObject", "arn:aws:s3:::ml-reports/big--other/r.json", {})


def test_example_specs_exist():
    assert (ROOT / "workflows" / "churn-training.yaml").exists()
