"""Every value a compiled workflow sends to an API at run time fits that API.

Specs are generated (names of every legal length and alphabet, every task step
type, fan-outs, tags), each compiled workflow is run by the simulator under an
execution name drawn from every legal alphabet (`( ) ! '`, Unicode letters and
symbols), and each request a task sends (its Parameters as Step Functions
evaluated them: job names, tags, nested execution names, model names, alert
messages) is checked against botocore's model of the receiving API (types,
lengths, patterns, enums), plus the rules AWS documents that botocore lacks.
"""

from __future__ import annotations

import json
import re
import string

import regex
from conftest import compile_text
from hypothesis import given, settings
from hypothesis import strategies as st

from sfn_builder.request_check import check_request
from sfn_builder.service_models import input_shape
from sfn_builder.simulate import engine
from sfn_builder.simulate.mock_config import success_case

# The API each task resource calls (Step Functions' Batch parameters are PascalCase of botocore's).
APIS = {
    "createProcessingJob.sync": ("sagemaker", "CreateProcessingJob"),
    "createTrainingJob.sync": ("sagemaker", "CreateTrainingJob"),
    "createTransformJob.sync": ("sagemaker", "CreateTransformJob"),
    "createModel": ("sagemaker", "CreateModel"),
    "submitJob.sync": ("batch", "SubmitJob"),
    "startExecution.sync:2": ("stepfunctions", "StartExecution"),
    "invoke": ("lambda", "Invoke"),
    "publish": ("sns", "Publish"),
    "headObject": ("s3", "HeadObject"),
    "getObject": ("s3", "GetObject"),
}
JSON_MEMBERS = ("Input", "Payload", "Message")
# What AWS documents and botocore's models do not carry.
BATCH_JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
TAG_TEXT = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"
# Execution names: 1-80 characters, none of whitespace, < > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /,
# control characters or surrogates (StartExecution's documentation).
FORBIDDEN = set(' <>{}[]?*"#%\\^|~`$&,;:/') | {chr(c) for c in range(0x20)} | {chr(c) for c in range(0x7F, 0xA0)}
EXECUTION_NAME_CHARACTERS = st.one_of(
    st.sampled_from(string.ascii_letters + string.digits + "-_()!'.+=@"),
    st.characters(codec="utf-8", exclude_categories=("Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Cc", "Cf")).filter(
        lambda c: c not in FORBIDDEN
    ),
)
execution_names = st.text(EXECUTION_NAME_CHARACTERS, min_size=1, max_size=80)
names = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=80)
step_names = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=60).filter(
    lambda n: n not in ("succeed", "fail")
)
tag_values = st.text(string.ascii_letters + string.digits + " _.:/=+-@é", max_size=40)

STEP_BODIES = {
    "processing": "type: processing\n    entrypoint: [python3, run.py]\n"
    "    outputs: [{name: report, source: /opt/ml/processing/output, destination: 's3://b-data/out/'}]\n"
    "    report: {output: report, file: metrics.json}",
    "training": "type: training\n    output: s3://b-data/models/",
    "transform": "type: transform\n    model: existing-model\n    input: s3://b-data/in/\n    output: s3://b-data/o/",
    "model": "type: model\n    model_data: s3://b-data/model.tar.gz",
    "batch": "type: batch\n    job_queue: q\n    job_definition: d:1\n    parameters: {day: '${execution.name}'}",
    "workflow": "type: workflow\n    state_machine: child-flow\n    input: {run: '${execution.name}'}",
    "lambda": "type: lambda\n    function: f\n    payload: {run: '${execution.name}'}",
    "sns": "type: sns\n    topic: arn:aws:sns:us-east-1:123456789012:news\n    message: 'run ${execution.name}'",
}


@st.composite
def specs(draw) -> str:
    workflow = draw(names)
    chosen = draw(st.lists(st.sampled_from(sorted(STEP_BODIES)), min_size=1, max_size=4))
    step_list = draw(st.lists(step_names, min_size=len(chosen), max_size=len(chosen), unique_by=str.lower))
    tags = draw(st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=20), tag_values, max_size=3))
    lines = [
        "version: 1",
        f"name: '{workflow}'",
        f"tags: {json.dumps(tags)}",
        "defaults:",
        "  sagemaker:",
        "    role: arn:aws:iam::123456789012:role/ml",
        "    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/ml:1",
        "    instance_type: ml.m5.xlarge",
        "steps:",
    ]
    for index, (kind, step) in enumerate(zip(chosen, step_list, strict=True)):
        fan_out = kind not in ("model", "processing") and draw(st.booleans())
        lines.append(f"  '{step}':")
        lines.append(f"    {STEP_BODIES[kind]}")
        if fan_out:
            lines.append("    for_each: {items: [a, b]}")
        if index:
            lines.append(f"    needs: ['{step_list[index - 1]}']")
    lines += ["notifications:", "  topic: arn:aws:sns:us-east-1:123456789012:alerts"]
    return "\n".join(lines) + "\n"


def problems_of(parameters: dict, resource: str) -> list[str]:
    api = APIS[resource.split(":::", 1)[1].removeprefix("aws-sdk:").split(":", 1)[1]]
    sent = {  # Step Functions sends these members as JSON text
        key: json.dumps(value) if key in JSON_MEMBERS and not isinstance(value, str) else value
        for key, value in parameters.items()
    }
    problems = check_request(sent, input_shape(*api))
    tags = parameters.get("Tags", [])
    tags = tags.items() if isinstance(tags, dict) else [(t["Key"], t["Value"]) for t in tags]
    problems += [
        f"tag {k}={v!r}" for k, v in tags if not regex.fullmatch(TAG_TEXT, k) or not regex.fullmatch(TAG_TEXT, v)
    ]
    if api == ("batch", "SubmitJob") and not BATCH_JOB_NAME.fullmatch(parameters["JobName"]):
        problems.append(f"JobName {parameters['JobName']!r} is not a Batch job name")
    return problems


@settings(max_examples=40)
@given(spec=specs(), execution=execution_names)
def test_every_run_time_value_fits_its_api(tmp_path_factory, spec, execution):
    folder = tmp_path_factory.mktemp("spec")

    def write(text: str, name: str = "spec.yaml") -> str:
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    compilation = compile_text(write, spec)
    assert compilation.ok, [p.render() for p in compilation.problems]
    workflow, definition = compilation.analysis.workflow, compilation.definition
    run = engine.run(definition, workflow.name, {}, success_case(definition, {}), execution=execution)
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    checked = 0
    for event in run.events:
        details = event.get("taskScheduledEventDetails")
        if details:
            resource = f"arn:aws:states:::{details['resourceType']}:{details['resource']}"
            parameters = json.loads(details["parameters"])
            assert problems_of(parameters, resource) == [], (resource, parameters)
            checked += 1
    assert checked >= len(workflow.steps)


def test_the_longest_names_fit_with_the_longest_execution_name(write_spec):
    """The bounds themselves: 80-character workflow, 60-character steps, an 80-character execution name."""
    spec = specs_at_limits()
    compilation = compile_text(write_spec, spec)
    assert compilation.ok, [p.render() for p in compilation.problems]
    workflow, definition = compilation.analysis.workflow, compilation.definition
    run = engine.run(definition, workflow.name, {}, success_case(definition, {}), execution="r(" + "é!" * 39)
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    for event in run.events:
        details = event.get("taskScheduledEventDetails")
        if details:
            resource = f"arn:aws:states:::{details['resourceType']}:{details['resource']}"
            assert problems_of(json.loads(details["parameters"]), resource) == []


def specs_at_limits() -> str:
    lines = ["version: 1", f"name: {'W_' * 40}", "defaults:", "  sagemaker:"]
    lines += [
        "    role: arn:aws:iam::123456789012:role/ml",
        "    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1",
    ]
    lines += ["    instance_type: ml.m5.xlarge", "steps:"]
    previous = None
    for kind in STEP_BODIES:
        step = (kind.upper() + "_" * 60)[:60]
        lines += [f"  {step}:", f"    {STEP_BODIES[kind]}"]
        if previous:
            lines.append(f"    needs: [{previous}]")
        previous = step
    return "\n".join([*lines, "notifications:", "  topic: arn:aws:sns:us-east-1:123456789012:alerts"]) + "\n"


# -- names `create` makes ------------------------------------------------------------

CREATE_CALLS = {  # resource kind -> the API member its name is given to
    "iam-role": ("iam", "CreateRole", "RoleName"),
    "events-rule": ("events", "PutRule", "Name"),
    "lambda-function": ("lambda", "CreateFunction", "FunctionName"),
    "schedule": ("scheduler", "CreateSchedule", "Name"),
    "schedule-group": ("scheduler", "CreateScheduleGroup", "Name"),
    "log-group": ("logs", "CreateLogGroup", "logGroupName"),
    "state-machine": ("stepfunctions", "CreateStateMachine", "name"),
}


def test_every_resource_create_makes_has_a_name_its_api_accepts(write_spec):
    """The longest workflow name with every kind of resource: roles, rules of every kind, schedules..."""
    from sfn_builder.deploy.resources import desired_resources
    from sfn_builder.request_check import pattern_problems
    from sfn_builder.steps.base import Arns

    spec = specs_at_limits().replace(
        "notifications:\n  topic: arn:aws:sns:us-east-1:123456789012:alerts\n",
        "logging: {level: ALL}\nnotifications:\n  topic: {name: alerts}\n  on_jobs: [Failed, Stopped, Completed]\n"
        "  format: detailed\nschedule:\n  - {expression: rate(1 day)}\n"
        "  - {expression: cron(0 3 * * ? *), timezone: UTC}\n",
    )
    compilation = compile_text(write_spec, spec)
    assert compilation.ok, [p.render() for p in compilation.problems]
    resources = desired_resources(
        compilation.analysis.workflow, compilation.definition, Arns("aws", "us-east-1", "1" * 12)
    )
    kinds = set()
    for resource in resources:
        if resource.kind in CREATE_CALLS:
            service, operation, member = CREATE_CALLS[resource.kind]
            assert pattern_problems(input_shape(service, operation).members[member], resource.name) == (), resource
            kinds.add(resource.kind)
    assert kinds == set(CREATE_CALLS)
