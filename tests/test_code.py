"""`code:`: a processing step's own source, uploaded by `create` as a content-addressed archive
that the job unpacks and runs its entrypoint in."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from test_publish import connect

from sfn_builder import code_bundles
from sfn_builder.code_bundles import bundle
from sfn_builder.compiler import compile_analysis
from sfn_builder.steps.processing import RUN_IN_CODE
from sfn_builder.validate import analyze_file

SPEC = """
version: 1
name: own-code
defaults:
  sagemaker:
    role: arn:aws:iam::111122223333:role/demo-sagemaker
    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/demo:1
    instance_type: ml.m5.xlarge
    code_bucket: demo-artifacts
steps:
  clean:
    type: processing
    code: src/
    entrypoint: [python3, clean.py]
    arguments: {day: latest}
"""
SCRIPT = 'import sys\nprint("cleaned", sys.argv[1:])\n'


@pytest.fixture
def project(tmp_path: Path):
    """A spec beside its src/ folder (with a byte-code cache that must not be bundled)."""
    (tmp_path / "src" / "lib").mkdir(parents=True)
    (tmp_path / "src" / "clean.py").write_text(SCRIPT)
    (tmp_path / "src" / "lib" / "util.py").write_text("X = 1\n")
    (tmp_path / "src" / "__pycache__").mkdir()
    (tmp_path / "src" / "__pycache__" / "clean.cpython-311.pyc").write_bytes(b"\0junk")
    (tmp_path / "src" / ".env").write_text("DB_PASSWORD=hunter2\n")  # local settings: never uploaded

    def write(text: str = SPEC) -> str:
        (tmp_path / "spec.yaml").write_text(text.lstrip("\n"))
        return str(tmp_path / "spec.yaml")

    return write


def parameters(path: str) -> dict:
    compilation = compile_analysis(analyze_file(path))
    assert compilation.ok, [p.render() for p in compilation.problems]
    return compilation.definition["States"]["clean"]["Parameters"]


def errors(path: str) -> list[str]:
    return [p.render() for p in analyze_file(path).problems if p.is_error]


def test_the_job_gets_the_archive_as_its_code_input_and_runs_the_entrypoint_in_it(project, tmp_path):
    request = parameters(project())
    digest = bundle(str(tmp_path / "src")).digest
    assert request["ProcessingInputs"] == [
        {
            "InputName": "code",
            "S3Input": {
                "S3Uri": f"s3://demo-artifacts/sfn-build/own-code/code/{digest[:16]}/sourcedir.tar.gz",
                "LocalPath": "/opt/ml/processing/input/code",
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
            },
        }
    ]
    entrypoint = request["AppSpecification"]["ContainerEntrypoint"]
    assert entrypoint == ["/bin/sh", "-c", RUN_IN_CODE, "sfn-build-code", "python3", "clean.py"]
    assert request["AppSpecification"]["ContainerArguments"] == ["--day", "latest"]


def test_the_wrapper_unpacks_the_archive_and_runs_the_entrypoint_with_its_arguments(project, tmp_path):
    project()
    archive = tmp_path / "input" / "sourcedir.tar.gz"
    archive.parent.mkdir()
    archive.write_bytes(bundle(str(tmp_path / "src")).archive)
    command = RUN_IN_CODE.replace("/opt/ml/processing/input/code", str(archive.parent)).replace(
        "/opt/ml/code", str(tmp_path / "code")
    )  # the container's paths, here
    done = subprocess.run(
        ["/bin/sh", "-c", command, "sfn-build-code", "python3", "clean.py", "--day", "latest"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == "cleaned ['--day', 'latest']\n"


def test_an_unchanged_directory_keeps_its_digest_and_a_changed_one_does_not(project, tmp_path):
    path = project()
    before = parameters(path)
    with tarfile.open(fileobj=io.BytesIO(bundle(str(tmp_path / "src")).archive)) as archive:
        members = archive.getnames()
    assert members == ["clean.py", "lib/util.py"]  # no byte-code cache, no .env
    (tmp_path / "src" / "clean.py").write_text(SCRIPT)  # the same content, a new modification time
    assert parameters(path) == before  # so the cache key and the state machine stay the same
    (tmp_path / "src" / "clean.py").write_text(SCRIPT + "# changed\n")
    assert parameters(path)["ProcessingInputs"] != before["ProcessingInputs"]


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (("code: src/", "code: nowhere/"), "12:11", "the code directory"),
        (("    entrypoint: [python3, clean.py]\n", ""), "12:11", "the step's entrypoint, and the step has none"),
        (("    code_bucket: demo-artifacts\n", ""), "11:11", "no code_bucket says where"),
        (("code_bucket: demo-artifacts", "code_bucket: Demo_Artifacts"), "8:18", "not a valid S3 bucket name"),
        (
            (
                "    arguments: {day: latest}\n",
                "    inputs: [{name: code, source: 's3://demo-data/x/', destination: /opt/ml/processing/input/x}]\n",
            ),
            "14:21",
            "the input name 'code' is the code directory's",
        ),
    ],
)
def test_code_problems_point_at_the_field(project, tmp_path, change, where, message):
    found = errors(project(SPEC.replace(*change)))
    assert any(text.startswith(f"{tmp_path / 'spec.yaml'}:{where}:") and message in text for text in found), found


def test_an_included_step_s_code_is_relative_to_its_own_file(tmp_path):
    unit = tmp_path / "units"
    (unit / "src").mkdir(parents=True)
    (unit / "src" / "clean.py").write_text(SCRIPT)
    head, steps = SPEC.split("steps:\n")
    (unit / "clean.yaml").write_text("steps:\n" + steps)
    (tmp_path / "spec.yaml").write_text(head.lstrip("\n") + "include: [units/clean.yaml]\n")
    request = parameters(str(tmp_path / "spec.yaml"))
    assert bundle(str(unit / "src")).digest[:16] in request["ProcessingInputs"][0]["S3Input"]["S3Uri"]


def test_create_uploads_the_archive_once_and_keeps_the_old_one_when_the_code_changes(
    emulator, project, tmp_path, cli, aws_env
):
    path = project()
    code, out, _ = cli("plan", path, "--endpoint-url", emulator)
    assert code == 0 and "+ code archive s3://demo-artifacts/sfn-build/own-code/code/" in out
    assert "upload: 2 files from" in out
    s3 = connect(emulator).client("s3")
    s3.create_bucket(Bucket="demo-artifacts")
    assert cli("create", path, "--endpoint-url", emulator, "--yes")[0] == 0
    first = parameters(path)["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    key = first.removeprefix("s3://demo-artifacts/")
    stored = s3.get_object(Bucket="demo-artifacts", Key=key)["Body"].read()
    assert stored == bundle(str(tmp_path / "src")).archive
    code, out, _ = cli("plan", path, "--endpoint-url", emulator)
    assert code == 0 and "no changes" in out.lower()  # nothing uploaded again

    (tmp_path / "src" / "clean.py").write_text(SCRIPT + "# v2\n")
    assert cli("create", path, "--endpoint-url", emulator, "--yes")[0] == 0
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="demo-artifacts")["Contents"]}
    second = parameters(path)["ProcessingInputs"][0]["S3Input"]["S3Uri"].removeprefix("s3://demo-artifacts/")
    assert keys == {key, second}  # the version rollback may route to still finds its code
    machine = (
        connect(emulator)
        .client("stepfunctions")
        .describe_state_machine(stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:own-code")
    )
    assert second in machine["definition"]


def test_a_missing_bucket_is_named_with_what_to_do(emulator, project, cli, aws_env):
    code, _, err = cli("create", project(), "--endpoint-url", emulator, "--yes")
    assert code == 1
    assert "the S3 bucket demo-artifacts (code_bucket) does not exist" in err
    assert "Traceback" not in err


def test_the_cloudformation_template_says_where_the_archive_goes(project, cli):
    code, out, _ = cli("compile", project(), "--format", "cloudformation")
    assert code == 0
    output = json.loads(out)["Outputs"]["CodeArchive1"]
    assert output["Value"].startswith("s3://demo-artifacts/sfn-build/own-code/code/")


TRAINING = """
version: 1
name: own-training
defaults:
  sagemaker:
    role: arn:aws:iam::111122223333:role/demo-sagemaker
    image: 763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.3-cpu-py311
    instance_type: ml.m5.xlarge
    code_bucket: demo-artifacts
steps:
  train:
    type: training
    code: src/
    entry_point: clean.py
    hyperparameters: {epochs: 5}
    output: s3://demo-models/
"""


def test_a_training_step_runs_its_code_in_script_mode(project, tmp_path):
    compilation = compile_analysis(analyze_file(project(TRAINING)))
    assert compilation.ok, [p.render() for p in compilation.problems]
    digest = bundle(str(tmp_path / "src")).digest
    assert (
        compilation.definition["States"]["train"]["Parameters"]["HyperParameters"]
        == {
            "epochs": "5",
            "sagemaker_program": '"clean.py"',  # JSON-encoded, as the SageMaker SDK's framework estimators write them
            "sagemaker_submit_directory": f'"s3://demo-artifacts/sfn-build/own-training/code/{digest[:16]}/sourcedir.tar.gz"',
        }
    )


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (("entry_point: clean.py", "entry_point: claen.py"), "13:18", "'claen.py' is not a file of the code directory"),
        (("    entry_point: clean.py\n", ""), "12:11", "needs the entry_point to run"),
        (("    code: src/\n", ""), "12:18", "entry_point names a file of the step's code:, and the step has none"),
        (("{epochs: 5}", "{sagemaker_program: x.py}"), "14:23", "is what code: and entry_point set"),
    ],
)
def test_training_code_problems_point_at_the_field(project, tmp_path, change, where, message):
    found = errors(project(TRAINING.replace(*change)))
    assert any(text.startswith(f"{tmp_path / 'spec.yaml'}:{where}:") and message in text for text in found), found


def test_plan_shows_a_training_step_s_archive(emulator, project, cli, aws_env):
    code, out, _ = cli("plan", project(TRAINING), "--endpoint-url", emulator)
    assert code == 0 and "+ code archive s3://demo-artifacts/sfn-build/own-training/code/" in out


def test_a_tuning_step_s_training_jobs_run_its_code_in_script_mode(project, tmp_path):
    tuning = TRAINING.replace("type: training", "type: tuning").replace(
        "    output: s3://demo-models/\n",
        "    output: s3://demo-models/\n    objective: {metric: loss, goal: minimize}\n"
        "    metrics: {loss: 'loss=([0-9.]+)'}\n    ranges: {lr: {min: 0.001, max: 0.1}}\n",
    )
    compilation = compile_analysis(analyze_file(project(tuning)))
    assert compilation.ok, [p.render() for p in compilation.problems]
    static = compilation.definition["States"]["train"]["Parameters"]["TrainingJobDefinition"]["StaticHyperParameters"]
    assert (
        static["sagemaker_program"] == '"clean.py"'
        and bundle(str(tmp_path / "src")).digest[:16] in static["sagemaker_submit_directory"]
    )


def test_an_unreadable_file_is_a_problem_at_code_not_a_crash(project, tmp_path, monkeypatch):
    def refused(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    (tmp_path / "src" / "clean.py").write_text(SCRIPT + "# not archived yet\n")
    monkeypatch.setattr(code_bundles, "open", refused, raising=False)
    found = errors(project())
    assert any("spec.yaml:12:11:" in text and "cannot read" in text and "Permission denied" in text for text in found)


def test_a_link_out_of_the_code_directory_is_refused_and_one_inside_is_bundled(project, tmp_path):
    (tmp_path / "credentials").write_text("[default]\naws_secret_access_key = hunter2\n")
    (tmp_path / "src" / "settings.ini").symlink_to(tmp_path / "credentials")
    found = errors(project())
    assert any(
        "spec.yaml:12:11:" in text and "settings.ini" in text and "outside it" in text for text in found
    ), found

    (tmp_path / "src" / "settings.ini").unlink()
    (tmp_path / "src" / "run.py").symlink_to(tmp_path / "src" / "clean.py")
    with tarfile.open(fileobj=io.BytesIO(bundle(str(tmp_path / "src")).archive)) as archive:
        linked = archive.getmember("run.py")
        assert linked.isfile() and archive.extractfile(linked).read().decode() == SCRIPT


def test_a_link_to_a_folder_is_refused_rather_than_left_out(project, tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "helpers.py").write_text("Y = 2\n")
    (tmp_path / "src" / "shared").symlink_to(tmp_path / "shared", target_is_directory=True)
    found = errors(project())
    assert any("spec.yaml:12:11:" in text and "is a link to a folder" in text for text in found), found
