"""Every API field: `request:` members merged into a step's request, and the first-class fields for
spot training, KMS keys, metrics, network isolation and Batch resources."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, compile_text
from hypothesis import given
from hypothesis import strategies as st

from sfn_builder.asl import walk_states
from sfn_builder.request_overrides import with_overrides

HEADER = """
version: 1
name: fields
input:
  day: {type: string, default: latest}
defaults:
  sagemaker:
    role: arn:aws:iam::111122223333:role/ml
    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/ml:1
    instance_type: ml.m5.xlarge
{defaults}
steps:
"""
PREP = """
  prep:
    type: processing
    entrypoint: [python3, prep.py]
    outputs: [{source: /opt/ml/processing/output, destination: "s3://ml-data/out/"}]
"""
TRAIN = """
  train:
    type: training
    output: s3://ml-data/model/
    timeout: 10h
"""
BATCH = """
  copy:
    type: batch
    job_queue: cpu
    job_definition: copy:3
"""


def spec(*steps: str, defaults: str = "") -> str:
    return HEADER.replace("{defaults}", defaults) + "".join(steps)


def parameters(write_spec, text: str) -> dict:
    compilation = compile_text(write_spec, text)
    assert compilation.ok, [p.render() for p in compilation.problems]
    return {name: state["Parameters"] for name, state in walk_states(compilation.whole()) if "Parameters" in state}


def errors(cli, write_spec, text: str) -> list[str]:
    code, out, err = cli("validate", write_spec(text))
    assert code == 1, out
    return [line for line in err.splitlines() if ": error: " in line]


# -- request: ---------------------------------------------------------------------------------


def test_request_members_merge_into_what_the_fields_generate(write_spec):
    prep = PREP + """    request:
      ProcessingResources: {ClusterConfig: {VolumeSizeInGB: 200}}
      StoppingCondition: null
      Environment: {DAY: "${input.day}"}
      Tags: [{Key: team, Value: ranking}]
"""
    request = parameters(write_spec, spec(prep))["prep"]
    assert request["ProcessingResources"]["ClusterConfig"] == {
        "InstanceCount": 1,
        "InstanceType": "ml.m5.xlarge",
        "VolumeSizeInGB": 200,
    }
    assert "StoppingCondition" not in request
    assert request["Environment"] == {"DAY.$": "$.input.day"}
    assert [tag["Key"] for tag in request["Tags"]] == ["sfn-build:workflow", "sfn-build:execution", "team"]


def test_a_list_replaces_and_batch_members_are_written_as_step_functions_takes_them(write_spec):
    batch = BATCH + """    attempts: 2
    request:
      retryStrategy: {attempts: 4, evaluateOnExit: [{onStatusReason: "Host EC2*", action: RETRY}]}
      containerOverrides: {environment: [{name: MODE, value: fast}]}
      tags: {team: ranking}
"""
    request = parameters(write_spec, spec(batch))["copy"]
    rule = {"OnStatusReason": "Host EC2*", "Action": "RETRY"}
    assert request["RetryStrategy"] == {"Attempts": 4, "EvaluateOnExit": [rule]}
    assert request["ContainerOverrides"] == {"Environment": [{"Name": "MODE", "Value": "fast"}]}
    assert request["Tags"]["team"] == "ranking" and request["Tags"]["sfn-build:workflow"] == "fields"
    assert "retryStrategy" not in request


MODEL_AND_TRANSFORM = """
  model:
    type: model
    model_data: s3://ml-data/model.tar.gz
    network_isolation: true
    request:
      PrimaryContainer: {Mode: SingleModel}
  score:
    type: transform
    needs: [model]
    model: model
    input: s3://ml-data/test/
    output: s3://ml-data/scores/
    kms: {output: alias/scores}
    request:
      BatchStrategy: {strategy}
      MaxPayloadInMB: 6
"""


def test_model_and_transform_steps_take_request_members_too(cli, write_spec):
    requests = parameters(write_spec, spec(MODEL_AND_TRANSFORM.replace("{strategy}", "MultiRecord")))
    assert requests["model"]["PrimaryContainer"]["Mode"] == "SingleModel"
    assert requests["model"]["EnableNetworkIsolation"] is True
    assert requests["score"]["BatchStrategy"] == "MultiRecord" and requests["score"]["MaxPayloadInMB"] == 6
    assert requests["score"]["TransformOutput"]["KmsKeyId"] == "alias/scores"
    (error,) = errors(cli, write_spec, spec(MODEL_AND_TRANSFORM.replace("{strategy}", "MultiRecords")))
    assert "steps.score.request.BatchStrategy" in error and "(did you mean 'MultiRecord'?)" in error


def test_an_unknown_member_is_reported_at_its_key_with_the_name_meant(cli, write_spec):
    prep = PREP + """    request:
      ProcessingResources: {ClusterConfig: {VolumeSizeInGb: 200}}
"""
    (error,) = errors(cli, write_spec, spec(prep))
    written = "      ProcessingResources: {ClusterConfig: {VolumeSizeInGb: 200}}"
    line = spec(prep).lstrip("\n").splitlines().index(written) + 1
    column = written.index("VolumeSizeInGb") + 1
    member = "steps.prep.request.ProcessingResources.ClusterConfig.VolumeSizeInGb"
    assert f"spec.yaml:{line}:{column}: error: {member}" in error
    assert "has no member VolumeSizeInGb (did you mean 'VolumeSizeInGB'?)" in error


def test_a_batch_member_is_suggested_in_the_case_it_was_written(cli, write_spec):
    cases = (("ContainerOverrides: {Memry: 5}", "'Memory'"), ("containerOverrides: {memry: 5}", "'memory'"))
    for written, meant in cases:
        (error,) = errors(cli, write_spec, spec(BATCH + f"    request:\n      {written}\n"))
        assert f"(did you mean {meant}?)" in error


def test_a_value_the_api_refuses_is_reported_at_the_value(cli, write_spec):
    train = TRAIN + """    request:
      StoppingCondition: {MaxPendingTimeInSeconds: 60}
      RetryStrategy: {MaximumRetryAttempts: "twice"}
"""
    found = errors(cli, write_spec, spec(train))
    pending = "request.StoppingCondition.MaxPendingTimeInSeconds"
    assert any(pending in e and "60 is below the minimum 1800" in e for e in found)
    assert any("request.RetryStrategy.MaximumRetryAttempts" in e and "expected a whole number" in e for e in found)


@pytest.mark.parametrize(
    ("field", "said"),
    [
        ("    env: {'1-BAD': x}\n", "prep.env: the CreateProcessingJob request would be rejected: Environment.key"),
        ("    env: {" + ", ".join(f"E{n}: x" for n in range(101)) + "}\n", "prep.env: the CreateProcessingJob "),
        ("    timeout: 10d\n", "prep.timeout: the CreateProcessingJob request would be rejected: StoppingCondition"),
    ],
)
def test_validate_says_what_the_api_would_refuse_of_what_the_fields_make(cli, write_spec, field, said):
    """A step's own fields can make a request the API refuses (not only `request:` members): validate
    says so at the field, before compile or create would."""
    (found,) = errors(cli, write_spec, spec(PREP + field))
    assert said in found


def test_a_training_steps_fields_are_checked_against_its_api_too(cli, write_spec):
    channels = "    inputs: {" + ", ".join(f"c{n}: 's3://ml-data/{n}/'" for n in range(21)) + "}\n"
    (found,) = errors(cli, write_spec, spec(TRAIN + channels + "    hyperparameters: {lr: '0.1'}\n"))
    assert "steps.train.inputs: the CreateTrainingJob request would be rejected: InputDataConfig: has 21 items" in found
    (found,) = errors(cli, write_spec, spec(TRAIN + "    hyperparameters: {lr: '" + "1" * 2_501 + "'}\n"))
    assert "steps.train.hyperparameters.lr: " in found and "HyperParameters.lr: has 2501 characters" in found


def test_a_reference_in_a_request_member_is_checked_like_any_template(cli, write_spec):
    prep = PREP + """    request:
      Environment: {DAY: "${input.dya}"}
"""
    (error,) = errors(cli, write_spec, spec(prep))
    assert "steps.prep.request.Environment.DAY" in error and "dya" in error


@pytest.mark.parametrize(
    ("step", "member", "field"),
    [
        (PREP, "ProcessingJobName: mine", "names the job"),
        (PREP, "RoleArn: arn:aws:iam::111122223333:role/other", "role:"),
        (BATCH, "jobQueue: other", "job_queue:"),
        (BATCH, "JobDefinition: other:1", "job_definition:"),
    ],
)
def test_members_derived_from_fields_cannot_be_overridden(cli, write_spec, step, member, field):
    code, _, err = cli("validate", write_spec(spec(step + f"    request:\n      {member}\n")))
    assert code == 1
    assert "request: cannot override it" in err and field in err


def test_reserved_tag_keys_are_refused_in_a_request(cli, write_spec):
    prep = PREP + """    request:
      Tags: [{Key: "sfn-build:workflow", Value: mine}]
"""
    (error,) = errors(cli, write_spec, spec(prep))
    assert "steps.prep.request.Tags[0].Key" in error and "reserved" in error


# -- first-class fields -----------------------------------------------------------------------


def test_spot_training_waits_as_long_as_the_step_may_run_unless_told(write_spec):
    spot = TRAIN + "    spot: true\n    max_runtime: 4h\n"
    request = parameters(write_spec, spec(spot))["train"]
    assert request["EnableManagedSpotTraining"] is True
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 4 * 3600, "MaxWaitTimeInSeconds": 10 * 3600}
    told = TRAIN + "    spot: {max_wait: 6h, checkpoints: s3://ml-data/ckpt/}\n    max_runtime: 4h\n"
    request = parameters(write_spec, spec(told))["train"]
    assert request["StoppingCondition"]["MaxWaitTimeInSeconds"] == 6 * 3600
    assert request["CheckpointConfig"] == {"S3Uri": "s3://ml-data/ckpt/"}


def test_spot_max_wait_shorter_than_the_run_is_refused_where_written(cli, write_spec):
    spot = TRAIN + "    max_runtime: 4h\n    spot: {max_wait: 1h}\n"
    (error,) = errors(cli, write_spec, spec(spot))
    assert "steps.train.spot.max_wait" in error and "less than the job's max_runtime (4h)" in error


def test_metric_definitions_need_one_capturing_group(cli, write_spec):
    good = TRAIN + '    metrics: {"validation:auc": "auc=([0-9.]+)"}\n'
    assert parameters(write_spec, spec(good))["train"]["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "validation:auc", "Regex": "auc=([0-9.]+)"}
    ]
    bad = TRAIN + '    metrics: {auc: "auc=[0-9.]+", loss: "loss=(("}\n'
    found = errors(cli, write_spec, spec(bad))
    assert len(found) == 2 and all("capturing group" in e for e in found)


def test_kms_keys_encrypt_volumes_and_outputs_and_a_step_adds_to_the_default(write_spec):
    defaults = "    kms: {volume: alias/ml-volumes, output: alias/ml-out}\n    network_isolation: true"
    prep = PREP + "    kms: {output: alias/prep-out}\n"
    requests = parameters(write_spec, spec(prep, TRAIN, defaults=defaults))
    assert requests["prep"]["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == "alias/ml-volumes"
    assert requests["prep"]["ProcessingOutputConfig"]["KmsKeyId"] == "alias/prep-out"
    assert requests["prep"]["NetworkConfig"] == {"EnableNetworkIsolation": True}
    assert requests["train"]["ResourceConfig"]["VolumeKmsKeyId"] == "alias/ml-volumes"
    assert requests["train"]["OutputDataConfig"]["KmsKeyId"] == "alias/ml-out"
    assert requests["train"]["EnableNetworkIsolation"] is True


def test_a_kms_key_that_is_not_one_is_refused(cli, write_spec):
    (error,) = errors(cli, write_spec, spec(PREP + "    kms: {volume: my key}\n"))
    assert "steps.prep.kms.volume" in error and "is not a KMS key" in error


@pytest.mark.parametrize(
    ("memory", "mib"), [("16 GiB", "16384"), ("512MiB", "512"), ("2048", "2048"), ("0.5 GiB", "512")]
)
def test_batch_resources_become_resource_requirements(write_spec, memory, mib):
    batch = BATCH + f"    resources: {{vcpus: 0.5, memory: {memory}, gpus: 1}}\n"
    overrides = parameters(write_spec, spec(batch))["copy"]["ContainerOverrides"]
    assert overrides["ResourceRequirements"] == [
        {"Type": "VCPU", "Value": "0.5"},
        {"Type": "MEMORY", "Value": mib},
        {"Type": "GPU", "Value": "1"},
    ]


def test_the_example_compiles_and_its_requests_keep_every_member_written(write_spec):
    text = (ROOT / "workflows" / "spot-training.yaml").read_text()
    requests = parameters(write_spec, text)
    assert requests["features"]["ProcessingResources"]["ClusterConfig"]["VolumeSizeInGB"] == 200
    assert requests["train"]["RetryStrategy"] == {"MaximumRetryAttempts": 2}
    assert json.dumps(requests["score"]["RetryStrategy"]["EvaluateOnExit"][0]) == (
        '{"OnStatusReason": "Host EC2*", "Action": "RETRY"}'
    )


# -- the merge, for any request and any overrides ------------------------------------------------

_KEYS = st.sampled_from(["A", "B", "C", "Tagz"])
_LEAVES = st.one_of(st.integers(), st.text(max_size=3), st.lists(st.integers(), max_size=2))
_TREES = st.recursive(_LEAVES, lambda inner: st.dictionaries(_KEYS, inner, max_size=3), max_leaves=8)
_OVERRIDES = st.recursive(
    st.one_of(_LEAVES, st.none()), lambda inner: st.dictionaries(_KEYS, inner, max_size=3), max_leaves=8
)


def _leaves(tree: dict, path: tuple = ()) -> dict[tuple, object]:
    found = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            found.update(_leaves(value, (*path, key)))
        else:
            found[(*path, key)] = value
    return found


def _at(tree: dict, path: tuple) -> object:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return KeyError
        tree = tree[key]
    return tree


@given(generated=st.dictionaries(_KEYS, _TREES, max_size=3), overrides=st.dictionaries(_KEYS, _OVERRIDES, max_size=3))
def test_every_member_written_lands_and_every_other_generated_member_stays(generated, overrides):
    merged = with_overrides(generated, overrides, None)
    written = _leaves(overrides)
    for path, value in written.items():
        mapping_below = isinstance(_at(generated, path), dict) and isinstance(value, dict)
        if value is None:
            assert _at(merged, path) is KeyError
        elif not mapping_below:  # an empty mapping over a generated one merges nothing
            assert _at(merged, path) == value
    for path, value in _leaves(generated).items():
        if not any(path[: len(w)] == w or w[: len(path)] == path for w in written):
            assert _at(merged, path) == value


def test_the_example_publishes_runs_and_is_up_to_date_on_the_emulator(private_cache, cli):
    example = str(ROOT / "workflows" / "spot-training.yaml")
    code, out, err = cli("create", example, "--local", "--yes")
    assert code == 0, err
    code, out, err = cli("execute", example, "--local", "--wait", "--fail", "score")
    assert code == 1 and "Failed in score" in out
    code, out, err = cli("execute", example, "--local", "--wait")
    assert code == 0, err
    succeeded = [line.split(":")[0] for line in out.splitlines() if line.endswith(": succeeded")]
    assert [step for step in succeeded if step in ("features", "train", "score")] == ["features", "train", "score"]
    assert out.rstrip().endswith("Execution SUCCEEDED")
    assert "No changes: spot-training is up to date." in cli("plan", example, "--local")[1]
    assert cli("delete", example, "--local", "--yes")[0] == 0


def test_a_secret_written_in_a_request_draws_the_secret_warning_at_its_line(cli, write_spec):
    prep = PREP + "    request:\n      Environment: {DB_PASSWORD: hunter2, MODE: fast}\n"
    batch = BATCH + (
        "    request:\n      ContainerOverrides: {Environment: [{Name: API_TOKEN, Value: abc123}, "
        "{Name: DB_PASSWORD_SECRET, Value: churn/db}, {Name: MODE, Value: fast}]}\n"
    )
    code, _, err = cli("validate", write_spec(spec(prep, batch)))
    assert code == 0, err
    warned = [line.split(": warning: ")[1].split(":")[0] for line in err.splitlines() if ": warning: " in line]
    assert warned == [
        "steps.prep.request.Environment.DB_PASSWORD",
        "steps.copy.request.ContainerOverrides.Environment[0].Value",
    ]


def test_batch_memory_below_what_batch_accepts_is_refused_where_written(cli, write_spec):
    (error,) = errors(cli, write_spec, spec(BATCH + "    resources: {memory: 0.001 GiB}\n"))
    assert "steps.copy.resources.memory" in error and "at least 4 MiB" in error


def _every_api() -> list[tuple[str, str]]:
    from sfn_builder.compiler import ADDED_TASK_APIS
    from sfn_builder.steps import KINDS

    return sorted({kind.api for kind in KINDS.values() if kind.api} | set(ADDED_TASK_APIS.values()))


@pytest.mark.parametrize(("service", "operation"), _every_api())
def test_request_shapes_are_botocore_s_shapes(service, operation):
    """The shapes requests are checked against (read without botocore.model) tell what botocore.model's
    do, for every API a compiled workflow calls, down every member."""
    from sfn_builder.service_models import input_shape, service_model

    ours, theirs = input_shape(service, operation), service_model(service).operation_model(operation).input_shape
    stack, seen = [(ours, theirs, operation)], set()
    while stack:
        mine, botocore_shape, where = stack.pop()
        assert (mine.name, mine.type_name, mine.metadata, mine.required_members, mine.enum) == (
            botocore_shape.name,
            botocore_shape.type_name,
            botocore_shape.metadata,
            botocore_shape.required_members,
            getattr(botocore_shape, "enum", []),
        ), where
        if (mine.name, where.count(".")) in seen or where.count(".") > 6:
            continue
        seen.add((mine.name, where.count(".")))
        if mine.type_name == "structure":
            assert list(mine.members) == list(botocore_shape.members), where
            stack += [(mine.members[m], botocore_shape.members[m], f"{where}.{m}") for m in mine.members]
        elif mine.type_name == "list":
            stack.append((mine.member, botocore_shape.member, f"{where}[]"))
        elif mine.type_name == "map":
            stack.append((mine.key, botocore_shape.key, f"{where}.key"))
            stack.append((mine.value, botocore_shape.value, f"{where}.value"))


@given(st.text(alphabet=st.sampled_from(list("aZ9 _.:/=+-@()!'\t\u00e9\u4e2d\u0663\u3000")), max_size=12))
def test_a_tag_value_is_checked_against_aws_s_unicode_pattern_as_java_reads_it(value):
    """Tag values match `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*` (letters, separators and numbers of any script): an
    ASCII value is checked without the `regex` module, with the same answer."""
    import regex

    from sfn_builder.request_check import pattern_problems
    from sfn_builder.service_models import input_shape

    shape = input_shape("sagemaker", "AddTags").members["Tags"].member.members["Value"]
    java = regex.fullmatch(shape.metadata["pattern"], value) is not None
    assert (pattern_problems(shape, value) == ()) == java
