"""One failing spec per validation rule: the message, and the line it points at.

In each case the line the error must point at is marked `# <-`.
"""

from __future__ import annotations

import textwrap
import warnings

import pytest

from sfn_builder.validate import analyze_file

HEAD = """\
version: 1
name: demo
input:
  run_date: {type: string, default: latest}
  min_auc: {type: number, default: 0.8}
defaults:
  sagemaker:
    role: arn:aws:iam::111122223333:role/demo-sagemaker
    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/demo:1
    instance_type: ml.m5.xlarge
"""
PREP = """\
  prep:
    type: processing
    entrypoint: [python3, prep.py]
    outputs: [{name: out, source: /opt/ml/processing/output, destination: s3://demo-bucket/out/}]
"""
TRAIN = """\
  train:
    type: training
    needs: [prep]
    inputs: {train: s3://demo-bucket/out/}
    output: s3://demo-bucket/models/
"""


def steps(*parts: str) -> str:
    return HEAD + "steps:\n" + "".join(textwrap.dedent(p) if not p.startswith("  ") else p for p in parts)


MISSPELT_RETRY = "      - {errors: [States.TaskFaild]}   # <-\n"

CASES = {
    # --- the schema -------------------------------------------------------
    "unknown top-level field": (
        steps(PREP) + "descripton: typo   # <-\n",
        "unknown field 'descripton'",
        "did you mean 'description'?",
    ),
    "unknown step field": (
        steps(PREP, "  other:\n    type: processing\n    imgae: x   # <-\n"),
        "unknown field 'imgae' for a processing step",
        "did you mean 'image'?",
    ),
    "unknown step type": (
        steps(PREP, "  other:\n    type: procesing   # <-\n"),
        "unknown step type 'procesing'",
        "did you mean 'processing'?",
    ),
    "missing required field": (
        "version: 1   # <-\nsteps: {a: {type: succeed}}\n",
        "missing required field 'name'",
        None,
    ),
    "wrong type": (
        steps("  prep:\n    type: processing\n    instance_count: two   # <-\n"),
        "expected a whole number, found the string 'two'",
        None,
    ),
    "bad duration": (
        steps(PREP)
        + "defaults_note: x\n".replace("defaults_note: x\n", "")
        + "  late:\n    type: wait\n    seconds: 2 hours   # <-\n",
        "the string '2 hours' is not a duration",
        None,
    ),
    "wrong version": (
        "version: 2   # <-\nname: demo\nsteps: {a: {type: succeed}}\n",
        "must be 1, found 2",
        None,
    ),
    "unknown workflow type": (
        "version: 1\nname: demo\ntype: expres   # <-\nsteps: {a: {type: succeed}}\n",
        "unknown value 'expres'",
        "did you mean 'express'?",
    ),
    # --- names ------------------------------------------------------------
    "workflow name": (
        "version: 1\nname: churn training   # <-\nsteps: {a: {type: succeed}}\n",
        "the name 'churn training' is not a valid state machine name",
        "use 1-80 letters",
    ),
    "step name": (
        "version: 1\nname: demo\nsteps:\n  bad name: {type: succeed}   # <-\n",
        "the step name 'bad name' is not valid",
        "use 1-60 letters",
    ),
    "reserved step name": (
        "version: 1\nname: demo\nsteps:\n  fail: {type: succeed}   # <-\n",
        "'fail' cannot be a step name",
        None,
    ),
    "input name": (
        "version: 1\nname: demo\ninput:\n  run-date: {type: string}   # <-\nsteps: {a: {type: succeed}}\n",
        "the input name 'run-date' is not valid",
        None,
    ),
    "input default of another type": (
        steps(PREP).replace("default: latest}", "default: 20261121}   # <-"),
        "'run_date' is declared string, but its default is a number: 20261121",
        "text in quotes",
    ),
    "subscription endpoint": (
        steps(PREP) + "notifications:\n  topic:\n    name: demo-alerts\n    subscriptions:\n"
        "      - {protocol: email, endpoint: ml-oncall}   # <-\n",
        "email subscriptions deliver to an e-mail address, not 'ml-oncall'",
        "ml-oncall@example.com",
    ),
    "firehose subscription": (
        steps(PREP) + "notifications:\n  topic:\n    name: demo-alerts\n    subscriptions:\n"
        "      - protocol: firehose\n"
        "        endpoint: arn:aws:firehose:eu-west-1:111122223333:deliverystream/alerts   # <-\n",
        "only through a subscription role",
        "subscribe the stream to the topic yourself",
    ),
    "batch job definition revision": (
        steps("  copy:\n    type: batch\n    job_queue: ml-cpu\n    job_definition: s3-copy:latest   # <-\n"),
        "'s3-copy:latest' is not a Batch job definition name, name:revision or ARN",
        "the revision a whole number",
    ),
    "batch job queue": (
        steps("  copy:\n    type: batch\n    job_queue: ml cpu   # <-\n    job_definition: s3-copy:7\n"),
        "'ml cpu' is not a Batch job queue name or ARN",
        "1-128 of A-Za-z0-9-_",
    ),
    "item member a literal item lacks": (
        steps("  score:\n    type: lambda\n    function: f\n"
              "    for_each: {items: [{region: eu}, {region: us, size: 5}]}\n"
              "    payload: {s: '${item.size}'}   # <-\n"),
        "${item.size}: item 1 of the list, {\"region\": \"eu\"}, has no 'size'",
        None,
    ),
    "item member of a literal text": (
        steps("  score:\n    type: lambda\n    function: f\n    for_each: {items: [eu, us]}\n"
              "    payload: {s: '${item.region}'}   # <-\n"),
        "(\"eu\" is not an object)",
        "read ${item} itself",
    ),
    # --- a schedule's input, as execute checks --input ---------------------
    "schedule input type": (
        steps(PREP) + "schedule:\n  - expression: rate(1 day)\n    input: {min_auc: high}   # <-\n",
        "the schedule's input: 'min_auc' is declared number, but the input gives text: 'high'",
        None,
    ),
    "schedule expression in a list of one": (
        steps(PREP) + "schedule:\n  - {expression: 'cron(0 3 * * *)'}   # <-\n",
        "a cron expression has 6 fields, this one has 5",
        None,
    ),
    "schedule input missing": (
        steps(PREP).replace("run_date: {type: string, default: latest}", "run_date: {type: string}")
        + "schedule:\n  expression: rate(1 day)\n  input: {min_auc: 0.9}   # <-\n",
        "the schedule's input: the input lacks 'run_date' (string), which has no default",
        "run_date (string, required)",
    ),
    # --- the graph ----------------------------------------------------------
    "unknown need": (
        steps(PREP, "  train:\n    type: wait\n    seconds: 1\n    needs: [prpe]   # <-\n"),
        "there is no step 'prpe'",
        "did you mean 'prep'?",
    ),
    "needs itself": (
        steps(PREP, "  again:\n    type: wait\n    seconds: 1\n    needs: [again]   # <-\n"),
        "step 'again' needs itself",
        None,
    ),
    "cycle": (
        steps(
            "  a:   # <-\n    type: wait\n    seconds: 1\n    needs: [c]\n",
            "  b:\n    type: wait\n    seconds: 1\n    needs: [a]\n",
            "  c:\n    type: wait\n    seconds: 1\n    needs: [b]\n",
        ),
        "the steps depend on each other in a cycle: a -> b -> c -> a",
        None,
    ),
    "malformed dependency": (
        steps(PREP) + 'dependencies:\n  - "prep >> "   # <-\n',
        "cannot read the dependency 'prep >> '",
        'write "a >> b"',
    ),
    "dependency names no step": (
        steps(PREP) + 'dependencies:\n  - "prep >> trian"   # <-\n',
        "there is no step 'trian'",
        None,
    ),
    "choice next names no step": (
        steps(
            PREP,
            "  gate:\n    type: choice\n    needs: [prep]\n    choices:\n"
            "      - {when: input.run_date, equals: x, next: regster}   # <-\n",
        ),
        "there is no step 'regster'",
        None,
    ),
    "catch next names no step": (
        steps(
            "  prep:\n    type: processing\n    entrypoint: [a]\n    catch:\n"
            "      - {errors: [States.ALL], next: cleanp}   # <-\n"
        ),
        "there is no step 'cleanp'",
        None,
    ),
    "step after a fail step": (
        steps("  stop:\n    type: fail\n", "  later:\n    type: wait\n    seconds: 1\n    needs: [stop]   # <-\n"),
        "a fail step, after which nothing runs",
        None,
    ),
    "choice target needs a step that does not run before the choice": (
        steps(
            PREP,
            "  side:\n    type: wait\n    seconds: 1\n",
            "  gate:\n    type: choice\n    needs: [prep]\n"
            "    choices: [{when: input.run_date, equals: x, next: act}]\n    default: succeed\n",
            "  act:\n    type: wait\n    seconds: 1\n    needs: [side]   # <-\n",
        ),
        "runs only when choice step 'gate' leads to it, but it needs 'side'",
        "make 'gate' need 'side' too",
    ),
    "target of two choices": (
        steps(
            "  g1:\n    type: choice\n    choices: [{when: input.run_date, equals: x, next: act}]\n",
            "  g2:\n    type: choice\n    choices: [{when: input.run_date, equals: y, next: act}]\n",
            "  act:   # <-\n    type: wait\n    seconds: 1\n",
        ),
        "step 'act' is the target of more than one choice or catch (g1, g2)",
        None,
    ),
    # --- templates ------------------------------------------------------------
    "undeclared input": (
        steps('  prep:\n    type: processing\n    arguments: {since: "${input.rundate}"}   # <-\n'),
        "${input.rundate} reads the input 'rundate', which is not declared",
        "did you mean 'run_date'?",
    ),
    "step that does not run before": (
        steps(
            "  prep:\n    type: processing\n    entrypoint: [a]\n"
            '    arguments: {model: "${steps.train.ModelArtifacts.S3ModelArtifacts}"}   # <-\n',
            "  train:\n    type: training\n    output: s3://demo-bucket/m/\n",
        ),
        "reads step 'train', which does not finish before 'prep' starts",
        "add 'train' to steps.prep.needs",
    ),
    "unknown result member": (
        steps(
            PREP,
            TRAIN,
            "  use:\n    type: lambda\n    function: f\n    needs: [train]\n"
            '    payload: {m: "${steps.train.ModelArtifact.S3ModelArtifacts}"}   # <-\n',
        ),
        "the result has no member 'ModelArtifact'",
        "did you mean 'ModelArtifacts'?",
    ),
    "unclosed template": (
        steps('  prep:\n    type: processing\n    arguments: {since: "${input.run_date"}   # <-\n'),
        "'${' is not closed by '}'",
        None,
    ),
    "unclosed template in a key that names a metric": (
        steps(PREP, TRAIN, '    metrics: {"train${loss": "loss=([0-9.]+)"}   # <-\n'),
        "'${' is not closed by '}'",
        None,
    ),
    "unknown reference namespace": (
        steps('  prep:\n    type: processing\n    env: {HOME: "${env.HOME}"}   # <-\n'),
        "unknown reference '${env.HOME}'",
        None,
    ),
    "item outside for_each": (
        steps('  prep:\n    type: processing\n    arguments: {shard: "${item}"}   # <-\n'),
        "${item} is only defined in a step with for_each",
        None,
    ),
    "reference to a step without a result": (
        steps(
            "  pause:\n    type: wait\n    seconds: 5\n",
            "  use:\n    type: lambda\n    function: f\n    needs: [pause]\n"
            '    payload: {x: "${steps.pause.x}"}   # <-\n',
        ),
        "a wait step has no result",
        None,
    ),
    # --- SageMaker, Batch, Lambda, SNS fields ----------------------------------
    "container path": (
        steps(
            "  prep:\n    type: processing\n    inputs:\n"
            "      - {source: s3://demo-bucket/in/, destination: /data/in}   # <-\n"
        ),
        "the container path '/data/in' is not under /opt/ml/processing/",
        None,
    ),
    "S3 URI": (
        steps(
            "  prep:\n    type: processing\n    inputs:\n"
            "      - {source: s3:/demo-bucket/in/, destination: /opt/ml/processing/in}   # <-\n"
        ),
        "'s3:/demo-bucket/in/' is not an S3 URI",
        None,
    ),
    "S3 bucket name": (
        steps(
            "  prep:\n    type: processing\n    outputs:\n"
            "      - {source: /opt/ml/processing/out, destination: s3://Demo_Bucket/out/}   # <-\n"
        ),
        "'Demo_Bucket' is not a valid S3 bucket name",
        None,
    ),
    "role ARN": (
        steps("  prep:\n    type: processing\n    role: demo-role   # <-\n"),
        "'demo-role' is not an IAM role ARN",
        None,
    ),
    "execution role ARN": (
        "version: 1\nname: demo\nexecution_role: arn:aws:iam::123:role/x   # <-\nsteps: {a: {type: succeed}}\n",
        "is not an IAM role ARN",
        None,
    ),
    "instance type": (
        steps("  prep:\n    type: processing\n    instance_type: ml.m5.xlarg   # <-\n"),
        "'ml.m5.xlarg' is not an instance type for processing jobs",
        "did you mean 'ml.m5.xlarge'",
    ),
    "instance type inherited from defaults": (
        HEAD.replace("instance_type: ml.m5.xlarge", "instance_type: ml.p9.huge   # <-") + "steps:\n" + PREP,
        "'ml.p9.huge' is not an instance type for processing jobs",
        None,
    ),
    "required field after defaults": (
        "version: 1\nname: demo\nsteps:\n  prep:   # <-\n    type: processing\n    instance_type: ml.m5.xlarge\n",
        "a processing step needs 'image'",
        "set steps.prep.image or defaults.sagemaker.image",
    ),
    "report names no output": (
        steps(
            "  prep:\n    type: processing\n"
            "    outputs: [{name: out, source: /opt/ml/processing/o, destination: s3://demo-bucket/o/}]\n"
            "    report: {output: metrics, file: m.json}   # <-\n"
        ),
        "the report's output 'metrics' is not an output of this step",
        None,
    ),
    "transform of a step that is not a model": (
        steps(
            PREP,
            "  score:\n    type: transform\n    needs: [prep]\n    model: prep   # <-\n"
            "    input: s3://demo-bucket/i/\n    output: s3://demo-bucket/o/\n",
        ),
        "'prep' is a processing step, not a model step",
        None,
    ),
    "lambda function": (
        steps("  call:\n    type: lambda\n    function: not a function   # <-\n"),
        "'not a function' is not a Lambda function name or ARN",
        None,
    ),
    "SNS topic ARN": (
        steps("  tell:\n    type: sns\n    topic: arn:aws:sqs:eu-west-1:111122223333:q   # <-\n    message: hi\n"),
        "is not an SNS topic ARN",
        None,
    ),
    "for_each on a model step": (
        steps(
            "  m:\n    type: model\n    model_data: s3://demo-bucket/m.tar.gz\n    for_each: {items: [a, b]}   # <-\n"
        ),
        "a model step cannot use for_each",
        None,
    ),
    "for_each items that are not a list": (
        steps('  prep:\n    type: processing\n    for_each: {items: "shards"}   # <-\n'),
        "must be a list or a single ${...} reference to one",
        None,
    ),
    # --- choices and waits ----------------------------------------------------
    "rule with two tests": (
        steps(
            PREP,
            "  gate:\n    type: choice\n    needs: [prep]\n    choices:\n"
            "      - {when: input.run_date, equals: a, matches: b*, next: succeed}   # <-\n",
        ),
        "a rule has exactly one test",
        None,
    ),
    "compared with the wrong type": (
        steps(
            PREP,
            "  gate:\n    type: choice\n    needs: [prep]\n    choices:\n"
            "      - {when: steps.prep.ProcessingJobStatus, greater_than: 3, next: succeed}   # <-\n",
        ),
        "steps.prep.ProcessingJobStatus is a string, but it is compared with a number",
        None,
    ),
    "choice path outside steps and input": (
        steps(
            PREP,
            "  gate:\n    type: choice\n    needs: [prep]\n    choices:\n"
            "      - {when: execution.name, equals: a, next: succeed}   # <-\n",
        ),
        "'when' is a steps.STEP.PATH, input.NAME, error.Error or error.Cause path",
        None,
    ),
    "wait with both seconds and until": (
        steps("  pause:   # <-\n    type: wait\n    seconds: 5\n    until: '2026-01-01T00:00:00Z'\n"),
        "a wait step takes exactly one of 'seconds' or 'until'",
        None,
    ),
    # --- workflow level -------------------------------------------------------
    "express with .sync jobs": (
        steps(PREP).replace("name: demo\n", "name: demo\ntype: express   # <-\n"),
        "an express workflow cannot wait for jobs, but step 'prep' is a processing step",
        "use type: standard",
    ),
    "cron syntax": (
        steps(PREP) + "schedule:\n  expression: cron(0 25 * * ? *)   # <-\n",
        "cron field hours '25': '25' is out of range (0-23)",
        None,
    ),
    "rate syntax": (
        steps(PREP) + "schedule:\n  expression: rate(1 hours)   # <-\n",
        "write rate(1 hour), not rate(1 hours)",
        None,
    ),
    "cron with both days": (
        steps(PREP) + "schedule:\n  expression: cron(0 3 * * * *)   # <-\n",
        "one of day-of-month and day-of-week must be '?'",
        None,
    ),
    "time zone": (
        steps(PREP) + "schedule:\n  expression: cron(0 3 * * ? *)\n  timezone: Europe/Amsterdan   # <-\n",
        "'Europe/Amsterdan' is not a time zone",
        "did you mean 'Europe/Amsterdam'",
    ),
    "one-time schedule without a time zone": (
        steps(PREP) + "schedule:\n  expression: at(2026-01-01T03:00:00)   # <-\n",
        "at(...) runs once and needs a timezone",
        None,
    ),
    "notification topic ARN": (
        steps(PREP) + "notifications:\n  topic: churn-alerts   # <-\n",
        "'churn-alerts' is not an SNS topic ARN",
        None,
    ),
    # --- what AWS accepts (aws_rules) ----------------------------------------
    "reserved tag key": (
        steps(PREP) + "tags:\n  aws:team: ml   # <-\n",
        "the tag key 'aws:team' is reserved",
        "without that prefix",
    ),
    "ownership tag key": (
        steps(PREP) + "tags:\n  sfn-build:workflow: other   # <-\n",
        "the tag key 'sfn-build:workflow' is reserved",
        None,
    ),
    "template in a tag": (
        steps(PREP) + "tags:\n  run: ${execution.name}   # <-\n",
        "tag values are literal text",
        None,
    ),
    "tag value characters": (
        steps(PREP) + "tags:\n  owner: rerun(2024)   # <-\n",
        "the tag value 'rerun(2024)' has characters AWS tag values refuse",
        None,
    ),
    "timeout above ASL's bound": (
        steps("  prep:\n    type: processing\n    entrypoint: [x]\n    timeout: 1200d   # <-\n"),
        "Step Functions accepts at most 99,999,999",
        None,
    ),
    "max_delay above ASL's bound": (
        steps(
            "  prep:\n    type: processing\n    entrypoint: [x]\n    retry:\n"
            "      - {errors: [States.TaskFailed], max_delay: 400d}   # <-\n"
        ),
        "max_delay is at most 31,622,400 seconds",
        None,
    ),
    "Wait timestamp": (
        steps(PREP, "  later:\n    type: wait\n    needs: [prep]\n    until: 2026-01-31 03:00   # <-\n"),
        "is not a timestamp a Wait state reads",
        "RFC 3339",
    ),
    "reserved error name": (
        steps(PREP, "  stop:\n    type: fail\n    needs: [prep]\n    error: States.Custom   # <-\n"),
        "error names starting with 'States.' are Step Functions' own",
        None,
    ),
    "a step's own failure error": (
        steps(PREP, "  stop:\n    type: fail\n    needs: [prep]\n    error: prep.Failed   # <-\n"),
        "'prep.Failed' is the error sfn-build fails the workflow with when step prep fails",
        "ModelRejected",
    ),
    "States.ALL not alone": (
        steps(
            "  prep:\n    type: processing\n    entrypoint: [x]\n    catch:\n"
            "      - {errors: [States.ALL, States.Timeout], next: fail}   # <-\n"
        ),
        "States.ALL matches every error, so it stands alone",
        None,
    ),
    "States.ALL not last": (
        steps(
            "  prep:\n    type: processing\n    entrypoint: [x]\n    retry:\n"
            "      - {errors: [States.ALL]}   # <-\n      - {errors: [States.Timeout]}\n"
        ),
        "the retry entry for States.ALL must be the last",
        None,
    ),
    "path key": (
        steps(
            PREP, "  tell:\n    type: lambda\n    needs: [prep]\n    function: f\n    payload:\n      run.$: x   # <-\n"
        ),
        "the key 'run.$' ends in '.$'",
        None,
    ),
    "non-finite number": (
        steps(PREP) + "input:\n  rate: {type: number, default: .inf}   # <-\n",
        "'.inf' is not a finite number",
        None,
    ),
    "express workflow with execution alerts": (
        "version: 1\nname: demo\ntype: express\nsteps: {a: {type: lambda, function: f}}\n"
        "notifications:\n  topic: arn:aws:sns:us-east-1:111122223333:t\n  on_execution: [FAILED]   # <-\n",
        "express workflows send no Execution Status Change events",
        None,
    ),
    "report on a fan-out": (
        steps(
            "  prep:\n    type: processing\n    entrypoint: [x]\n    for_each: {items: [a, b]}\n"
            "    outputs: [{name: out, source: /opt/ml/processing/o, destination: s3://demo-bucket/o/}]\n"
            "    report: {output: out, file: m.json}   # <-\n"
        ),
        "a for_each step cannot have a report",
        None,
    ),
    "misspelt States error": (
        steps("  prep:\n    type: processing\n    entrypoint: [x]\n    retry:\n" + MISSPELT_RETRY),
        "'States.TaskFaild' is not an error Step Functions raises",
        "did you mean 'States.TaskFailed'?",
    ),
    "a step after a choice that always fails": (
        steps(
            PREP,
            "  gate:\n    type: choice\n    needs: [prep]\n"
            "    choices: [{when: steps.prep.ProcessingJobStatus, equals: Failed, next: fail}]\n"
            "    default: fail\n",
            "  after:\n    type: lambda\n    function: f\n    needs: [gate]   # <-\n",
        ),
        "step 'after' can never run: it needs 'gate', whose every route ends in fail",
        "give 'gate' a route that goes on",
    ),
    "a step after a step that can never run": (
        steps(
            PREP,
            "  gate:\n    type: choice\n    needs: [prep]\n"
            "    choices: [{when: steps.prep.ProcessingJobStatus, equals: Failed, next: fail}]\n",
            "  after:\n    type: lambda\n    function: f\n    needs: [gate]\n",
            "  later:\n    type: lambda\n    function: f\n    needs: [after]   # <-\n",
        ),
        "step 'later' can never run: it needs 'after', which can never run",
        None,
    ),
    # --- for_each results are lists --------------------------------------------
    "a fan-out's member in text": (
        steps(
            "  shard:\n    type: processing\n    entrypoint: [x]\n    for_each: {items: [a, b]}\n",
            "  tell:\n    type: lambda\n    needs: [shard]\n    function: f\n"
            "    payload: {text: 'done: ${steps.shard.ProcessingJobStatus}'}   # <-\n",
        ),
        "is a list (one ProcessingJobStatus per item of steps.shard), which cannot be part of a text",
        None,
    ),
    "a fan-out's member in a choice": (
        steps(
            "  shard:\n    type: processing\n    entrypoint: [x]\n    for_each: {items: [a, b]}\n",
            "  gate:\n    type: choice\n    needs: [shard]\n    choices:\n"
            "      - {when: steps.shard.ProcessingJobStatus, equals: Completed, next: succeed}   # <-\n",
        ),
        "a choice tests one value",
        None,
    ),
    "one schedule's field, not the list it might have been": (
        steps(PREP) + "schedule:\n  expression: rate(1 day)\n  description: '" + "d" * 513 + "'   # <-\n",
        "has 513 characters; at most 512 are allowed",
        None,
    ),
    "a timeout of no time": (
        steps("  tell:\n    type: lambda\n    function: f\n    timeout: 0s   # <-\n"),
        "'0s' is not a duration",
        "at least 1s",
    ),
    "a wait until a day that does not exist": (
        steps("  hold:\n    type: wait\n    until: '2026-06-31T03:00:00Z'   # <-\n"),
        "is not a timestamp a Wait state reads",
        "RFC 3339",
    ),
    "a batch variable named like Batch's own": (
        steps("  copy:\n    type: batch\n    job_queue: q\n    job_definition: d:1\n    env:\n"
              "      AWS_BATCH_JOB_ID: x   # <-\n"),
        "starts with AWS_BATCH, which Batch keeps",
        "rename it",
    ),
    "an sns subject on two lines": (
        steps("  tell:\n    type: sns\n    topic: arn:aws:sns:eu-west-1:111122223333:t\n    message: hi\n"
              "    subject: \"done\\nnow\"   # <-\n"),
        "is not one SNS takes: printable ASCII on one line",
        "line breaks",
    ),
    "an sns step to a FIFO topic": (
        steps("  tell:\n    type: sns\n    topic: arn:aws:sns:eu-west-1:111122223333:t.fifo   # <-\n    message: hi\n"),
        "a FIFO topic takes only messages with a message group id",
        "standard topic",
    ),
    "an input and an output named alike": (
        steps(
            "  prep:\n    type: processing\n    entrypoint: [x]\n"
            "    inputs: [{name: data, source: 's3://ml-in/x/', destination: /opt/ml/processing/in}]\n"
            "    outputs:\n      - {source: /opt/ml/processing/a, destination: 's3://ml-out/a/'}\n"
            "      - {name: data, source: /opt/ml/processing/b, destination: 's3://ml-out/b/'}   # <-\n",
        ),
        "an input and an output are both named 'data'",
        "named differently",
    ),
    "an output named like an unnamed input": (
        steps(
            "  prep:\n    type: processing\n    entrypoint: [x]\n"
            "    inputs: [{source: 's3://ml-in/x/', destination: /opt/ml/processing/in}]\n"
            "    outputs: [{name: input-1, source: /opt/ml/processing/a, destination: 's3://ml-out/a/'}]   # <-\n",
        ),
        "an input and an output are both named 'input-1'",
        "unnamed ones are input-1",
    ),
    "a FIFO alert topic": (
        steps(PREP) + "notifications:\n  topic: 'arn:aws:sns:eu-west-1:111122223333:ops.fifo'   # <-\n",
        "a FIFO topic takes only messages with a message group id",
        "use a standard topic",
    ),
    "an item of a fan-out by index": (
        steps(
            "  shard:\n    type: processing\n    entrypoint: [x]\n    for_each: {items: [a, b]}\n",
            "  tell:\n    type: lambda\n    needs: [shard]\n    function: f\n"
            "    payload: {first: '${steps.shard[0].ProcessingJobStatus}'}   # <-\n",
        ),
        "steps.shard runs once per item",
        None,
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_rule(case, write_spec):
    text, message, hint = CASES[case]
    marked = [n for n, line in enumerate(text.splitlines(), start=1) if "# <-" in line]
    assert len(marked) == 1, "mark the expected line with '# <-'"
    analysis = analyze_file(write_spec(text))
    assert not analysis.ok
    found = [p for p in analysis.problems if message in p.message]
    rendered = "\n".join(p.render() for p in analysis.problems)
    assert found, f"expected {message!r} in:\n{rendered}"
    problem = found[0]
    assert problem.position is not None and problem.position.line == marked[0], rendered
    assert problem.render().startswith(f"{problem.file}:{marked[0]}:")
    if hint:
        assert hint in (problem.hint or ""), rendered


def test_a_queue_or_function_subscription_is_accepted_with_what_it_must_allow(write_spec):
    subscriptions = (
        "notifications:\n  topic:\n    name: demo-alerts\n    subscriptions:\n"
        "      - {protocol: sqs, endpoint: 'arn:aws:sqs:eu-west-1:111122223333:ml-alerts'}\n"
        "      - {protocol: lambda, endpoint: 'arn:aws:lambda:eu-west-1:111122223333:function:page:live'}\n"
        "      - {protocol: sms, endpoint: '+31 6 1234 5678'}\n"
        "      - {protocol: https, endpoint: 'https://alerts.example.com/hook?team=ml'}\n"
    )
    analysis = analyze_file(write_spec(steps(PREP) + subscriptions))
    assert analysis.ok, [p.render() for p in analysis.problems]
    warned = [p for p in analysis.problems if p.severity.name == "WARNING"]
    assert [p.path[-2] for p in warned] == [0, 1]
    assert "sqs:SendMessage" in warned[0].message and "lambda:InvokeFunction" in warned[1].message


def test_an_undeclared_name_in_a_schedules_input_is_warned_at_its_key(write_spec):
    text = steps(PREP) + "schedule:\n  expression: rate(1 day)\n  input:\n    run_dat: latest\n"
    analysis = analyze_file(write_spec(text))
    assert analysis.ok  # passed on unread: the run does not fail
    (warned,) = [p for p in analysis.problems if "schedule's input" in p.message]
    assert warned.severity.name == "WARNING" and "(did you mean 'run_date'?)" in warned.message
    assert (warned.position.line, warned.position.column) == (len(text.splitlines()), 5)
    assert "the spec declares: run_date (string), min_auc (number)" in warned.hint


def test_a_null_input_default_is_warned_not_refused(write_spec):
    analysis = analyze_file(write_spec(steps(PREP).replace("default: latest}", "default: null}")))
    assert analysis.ok
    (warned,) = [p for p in analysis.problems if "its default is null" in p.message]
    assert warned.severity.name == "WARNING" and warned.path == ("input", "run_date", "default")


def test_reading_payload_inside_a_lambdas_payload_is_questioned(write_spec):
    lam = "  lam:\n    type: lambda\n    function: f\n"
    gate = (
        "  gate:\n    type: choice\n    needs: [lam]\n    choices:\n"
        "      - {when: '${steps.lam.Payload.score}', greater_than: 0.5, next: succeed}\n    default: fail\n"
    )
    analysis = analyze_file(write_spec(steps(lam, gate)))
    assert analysis.ok
    (warned,) = [p for p in analysis.problems if "Payload already" in p.message]
    assert warned.severity.name == "WARNING" and "did you mean ${steps.lam.score}?" in warned.hint
    plain = analyze_file(write_spec(steps(lam, gate.replace("lam.Payload.score", "lam.score"))))
    assert not [p for p in plain.problems if "Payload already" in p.message]


def test_a_member_an_object_inputs_default_lacks_is_warned(write_spec):
    text = (
        "version: 1\nname: demo\ninput:\n  cfg: {type: object, default: {region: eu}}\nsteps:\n"
        "  lam:\n    type: lambda\n    function: f\n    payload: {r: '${input.cfg.regoin}', s: '${input.cfg.region}'}\n"
    )
    analysis = analyze_file(write_spec(text))
    assert analysis.ok
    (warned,) = [p for p in analysis.problems if "the default of 'cfg'" in p.message]
    assert warned.severity.name == "WARNING" and "has no 'regoin'" in warned.message
    assert warned.hint == "did you mean 'region'?" and warned.path[-1] == "r"


def test_steps_whose_jobs_are_named_alike_are_warned(write_spec):
    twin = PREP.replace("  prep:", "  Prep_:")  # job names lowercase, and turn '_' into '-': prep
    analysis = analyze_file(write_spec(steps(PREP, twin, PREP.replace("  prep:", "  prep_b:"))))
    assert analysis.ok
    (warned,) = [p for p in analysis.problems if "both name their jobs" in p.message]
    assert warned.path == ("steps", "Prep_")
    assert "'prep' and 'Prep_' both name their jobs demo--prep-..." in warned.message


def test_a_job_run_past_sagemakers_limits_is_warned_at_its_max_runtime(write_spec):
    text = steps(PREP, TRAIN, "    max_runtime: 40d\n    timeout: 10d\n")
    analysis = analyze_file(write_spec(text))
    assert analysis.ok  # a raised quota lets a training job run longer
    warned = [p for p in analysis.problems if p.path == ("steps", "train", "max_runtime")]
    assert [p.severity.name for p in warned] == ["WARNING", "WARNING"]
    assert "longer than the 28 days SageMaker lets a training job run" in warned[0].message
    assert "step's timeout (10d)" in warned[1].message
    assert warned[0].position.line == len(text.splitlines()) - 1
    within = analyze_file(write_spec(text.replace("40d", "28d").replace("10d", "29d")))
    assert within.ok and not within.problems


EXPRESS = """\
version: 1
name: quick
type: express
defaults:
  timeout: 10m
steps:
  score: {type: lambda, function: score}
  nap: {type: wait, seconds: 6m, needs: [score]}
  scored: {type: pipeline, pipeline: Scoring, needs: [score]}
  ping: {type: sns, topic: 'arn:aws:sns:us-east-1:123456789012:x', message: hi, timeout: 2m, needs: [nap]}
  slow: {type: lambda, function: slow, timeout: 1h, needs: [nap]}
"""


def test_what_may_wait_past_an_express_executions_five_minutes_is_warned_at_its_line(write_spec):
    """AWS ends an Express execution after five minutes, with no catch or alert: a longer wait, timeout,
    or polled work is warned of where it is written (a lambda's built-in 15 minutes is left alone)."""
    analysis = analyze_file(write_spec(EXPRESS))
    assert analysis.ok
    warned = {p.path: p for p in analysis.problems if "Express execution after 5 minutes" in p.message}
    assert set(warned) == {("steps", "nap", "seconds"), ("steps", "scored"), ("steps", "slow", "timeout")}
    assert "the step may wait 6m" in warned["steps", "nap", "seconds"].message
    assert warned["steps", "nap", "seconds"].hint.endswith("or wait 5m or less")
    assert "may wait 10m" in warned["steps", "scored"].message  # the defaults' timeout
    slow = warned["steps", "slow", "timeout"].position
    assert (slow.line, slow.column) == (11, EXPRESS.splitlines()[10].index("1h") + 1)
    assert all(p.severity.name == "WARNING" and "type: standard" in p.hint for p in warned.values())
    standard = analyze_file(write_spec(EXPRESS.replace("type: express\n", "")))
    assert not [p for p in standard.problems if "Express" in p.message]


def test_a_timeout_written_as_a_whole_float_is_seconds_as_json_schema_reads_it(write_spec):
    analysis = analyze_file(write_spec(HEAD.replace("defaults:\n", "defaults:\n  timeout: 3.\n") + "steps:\n" + PREP))
    assert analysis.ok, [p.render() for p in analysis.problems]
    assert analysis.workflow.steps["prep"].timeout == 3


def test_a_metric_regex_python_would_warn_about_is_checked_without_a_python_warning(write_spec):
    text = steps(PREP, TRAIN, '    metrics: {"auc": "auc=[[0-9]]*([0-9.]+)"}\n')  # "possible nested set" to Python
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        analysis = analyze_file(write_spec(text))
    assert analysis.ok, [p.render() for p in analysis.problems]


def test_every_problem_is_reported_at_once(write_spec):
    text = steps(
        "  prep:\n    type: processing\n    instance_type: ml.m5.xlarg\n    role: r\n",
        "  train:\n    type: wait\n    seconds: 1\n    needs: [prpe]\n",
    )
    messages = [p.message for p in analyze_file(write_spec(text)).problems]
    assert any("is not an instance type" in m for m in messages)
    assert any("is not an IAM role ARN" in m for m in messages)
    assert any("there is no step 'prpe'" in m for m in messages)


def test_the_spec_md_example_is_valid():
    from conftest import ROOT

    analysis = analyze_file(str(ROOT / "workflows" / "churn-training.yaml"))
    assert analysis.ok, [p.render() for p in analysis.problems]
    assert not analysis.problems


@pytest.mark.parametrize(
    ("errors", "hint"),
    [
        ("SageMaker.AmazonSagemakerException", "did you mean 'SageMaker.AmazonSageMakerException'?"),
        ("states.timeout", "did you mean 'States.Timeout'?"),
        ("Batch.ServerExeption", "did you mean 'Batch.ServerException'?"),
    ],
)
def test_misspelt_integration_error_names_are_questioned_at_their_line(write_spec, errors, hint):
    text = steps(f"  prep:\n    type: processing\n    entrypoint: [x]\n    retry:\n      - {{errors: [{errors}]}}\n")
    analysis = analyze_file(write_spec(text))
    (problem,) = [p for p in analysis.problems if errors in p.message]
    assert (
        problem.hint == hint and problem.position.line == text.splitlines().index(f"      - {{errors: [{errors}]}}") + 1
    )


def test_known_and_own_error_names_pass(write_spec):
    names = (
        "[States.TaskFailed, SageMaker.AmazonSageMakerException, SageMaker.ResourceLimitExceeded, "
        "ThrottlingException, ModelNotReady]"
    )
    text = steps(f"  prep:\n    type: processing\n    entrypoint: [x]\n    retry:\n      - {{errors: {names}}}\n")
    assert analyze_file(write_spec(text)).problems == ()


def test_retrying_states_runtime_is_warned_at_its_name(write_spec):
    """Step Functions never retries States.Runtime: the execution ends on it."""
    text = steps(
        "  prep:\n    type: processing\n    entrypoint: [x]\n    retry:\n"
        "      - {errors: [States.TaskFailed, States.Runtime]}\n"
    )
    (warned,) = analyze_file(write_spec(text)).problems
    assert warned.severity.name == "WARNING" and "never retried" in warned.message
    assert warned.path == ("steps", "prep", "retry", 0, "errors", 1) and warned.position.line == len(text.splitlines())


@pytest.mark.parametrize(
    ("written", "receives"),
    [("NO", "false"), ("yes", "true"), ("on", "true"), ("off", "false"), ("1.10", "1.1"), ("12:30", "750")],
)
def test_yaml_1_1_values_that_change_meaning_in_text_fields_are_questioned_at_their_line(written, receives, write_spec):
    text = steps(
        "  prep:\n    type: processing\n    entrypoint: [x]\n"
        f"    arguments: {{country: {written}, quoted: '{written}', count: 10}}   # <-\n"
    )
    problems = [p for p in analyze_file(write_spec(text)).problems if "is read by YAML as" in p.message]
    (problem,) = problems
    assert problem.severity.value == "warning"
    assert problem.message.startswith(f"{written} is read by YAML as") and f"receives '{receives}'" in problem.message
    assert problem.hint == f"quote it to keep the text: '{written}'"
    assert problem.position.line == next(n for n, line in enumerate(text.splitlines(), 1) if "# <-" in line)


def test_meaning_problems_are_reported_with_a_shape_error_elsewhere(write_spec):
    text = steps(
        "  a:\n    type: lambda\n    functoin: f\n",  # a shape error in one step...
        "  b:\n    type: lambda\n    function: g\n    payload: {x: '${steps.c.y}'}\n",  # ...a meaning one in another
        "  c:\n    type: lambda\n    function: h\n    needs: [a]\n",
    )
    messages = [p.message for p in analyze_file(write_spec(text)).problems]
    assert any("unknown field 'functoin'" in m for m in messages)
    assert any("reads step 'c', which does not finish before 'b' starts" in m for m in messages)
    assert not any("'a'" in m for m in messages if "functoin" not in m)  # nothing about the placeholder
