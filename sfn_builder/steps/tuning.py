"""`tuning`: a SageMaker hyperparameter tuning job (createHyperParameterTuningJob.sync).

Its training jobs are described with the fields of a `training` step (the same
request, as a TrainingJobDefinition); `ranges` are the hyperparameters searched
and `objective` the metric optimised. The result is the
DescribeHyperParameterTuningJob response: `BestTrainingJob.TrainingJobName`
names the best training job, whose model is `<output>/<that name>/output/model.tar.gz`.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

from ..model import Step, Workflow
from ..naming import tuning_name_expression, tuning_prefix
from ..problems import Problem, did_you_mean
from .base import JOB_NAME_OWNED, ROLE_OWNED, Arns, Expr, JobEvents, ResultShape, StepKind, as_text, statement, tag_list
from .sagemaker_common import job_statements, without_none
from .training import Training

# CreateTrainingJob members that a tuning job's TrainingJobDefinition has too
_DEFINITION_MEMBERS = (
    "AlgorithmSpecification",
    "RoleArn",
    "InputDataConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "StoppingCondition",
    "VpcConfig",
    "EnableNetworkIsolation",
    "EnableManagedSpotTraining",
    "CheckpointConfig",
    "Environment",
)
_SCALING = {
    "auto": "Auto",
    "linear": "Linear",
    "logarithmic": "Logarithmic",
    "reverse_logarithmic": "ReverseLogarithmic",
}


class Tuning(StepKind):
    type = "tuning"
    resource = "arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync"
    api = ("sagemaker", "CreateHyperParameterTuningJob")
    result = ResultShape("sagemaker", "DescribeHyperParameterTuningJobResponse")
    summary = ("HyperParameterTuningJobName", "HyperParameterTuningJobArn", "HyperParameterTuningJobStatus")
    echoes_request = True
    has_result = True
    error_prefix = "SageMaker"
    general_error = "AmazonSageMakerException"
    runs_job = True
    owned_members = MappingProxyType(
        {"HyperParameterTuningJobName": JOB_NAME_OWNED, "TrainingJobDefinition.RoleArn": ROLE_OWNED}
    )
    # AWS documents no failure reason in these events: alerts link the job, whose page has it
    job_events = JobEvents(
        "aws.sagemaker",
        "SageMaker HyperParameter Tuning Job State Change",
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobStatus",
        {"Failed": "Failed", "Stopped": "Stopped", "Completed": "Completed"},
        "FailureReason",
        frozenset(),
        "/sagemaker/home?region=<region>#/hyper-tuning-jobs/<job>",
    )

    def job_prefix(self, workflow: Workflow, step: Step) -> str:
        return tuning_prefix(workflow.name, step.name)

    def iam_statements(self, step: Step, workflow: Workflow, arns: Arns) -> list[dict[str, Any]]:
        statements = job_statements(
            arns,
            workflow,
            step,
            "hyper-parameter-tuning-job",
            "HyperParameterTuningJob",
            "StepFunctionsGetEventsForSageMakerTuningJobsRule",
            prefix=self.job_prefix(workflow, step),
        )
        # what the .sync integration reads while it waits (AWS's policy for tuning tasks), on its jobs only
        jobs = statements[0]["Resource"]
        statements.append(statement(["sagemaker:ListTrainingJobsForHyperParameterTuningJob"], jobs))
        return statements

    def checks(self, step: Step, workflow: Workflow) -> Iterator[Problem]:
        yield from Training().checks(step, workflow)
        config, base = step.config, ("steps", step.name)
        metric = config["objective"]["metric"]
        metrics = list(config.get("metrics") or {})
        if metrics and metric not in metrics:
            yield Problem(
                f"the objective {metric!r} is not one of the step's metrics",
                (*base, "objective", "metric"),
                hint=did_you_mean(metric, metrics) or f"name one of: {', '.join(metrics)}",
            )
        static = config.get("hyperparameters") or {}
        for name, spec in config["ranges"].items():
            path = (*base, "ranges", name)
            if name in static:
                yield Problem(
                    f"{name!r} is both searched (ranges) and fixed (hyperparameters)",
                    path,
                    hint=f"remove {name!r} from hyperparameters, or from ranges",
                )
            if "min" in spec:
                yield from _range_problems(name, spec, path)
        if config.get("strategy") == "grid" and any("min" in spec for spec in config["ranges"].values()):
            yield Problem(
                "a grid search tries categorical ranges only",
                (*base, "strategy"),
                hint="give each range `values: [...]`, or use another strategy",
            )
        jobs, parallel = config.get("max_jobs", 10), config.get("max_parallel_jobs", 2)
        if parallel > jobs:
            yield Problem(
                f"max_parallel_jobs ({parallel}) is more than max_jobs ({jobs})",
                (*base, "max_parallel_jobs"),
                hint="lower max_parallel_jobs to at most max_jobs",
            )

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        config = step.config
        training = Training().request(step, workflow)
        definition = {key: training[key] for key in _DEFINITION_MEMBERS if key in training}
        static = {k: v for k, v in (training.get("HyperParameters") or {}).items() if k not in config["ranges"]}
        definition["StaticHyperParameters"] = static or None
        objective = config["objective"]
        tuning_config = {
            "Strategy": config.get("strategy", "bayesian").capitalize(),
            "HyperParameterTuningJobObjective": {
                "Type": objective.get("goal", "maximize").capitalize(),
                "MetricName": objective["metric"],
            },
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": config.get("max_jobs", 10),
                "MaxParallelTrainingJobs": config.get("max_parallel_jobs", 2),
            },
            "ParameterRanges": parameter_ranges(config["ranges"]),
            "TrainingJobEarlyStoppingType": "Auto" if config.get("early_stopping") else "Off",
        }
        return without_none(
            {
                "HyperParameterTuningJobName": Expr(tuning_name_expression(workflow.name, step.name)),
                "HyperParameterTuningJobConfig": tuning_config,
                "TrainingJobDefinition": without_none(definition),
                "Tags": tag_list(workflow),
            }
        )


def parameter_ranges(ranges: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The `ranges` as SageMaker's ParameterRanges (the kinds used)."""
    kinds: dict[str, list[dict[str, Any]]] = {
        "IntegerParameterRanges": [],
        "ContinuousParameterRanges": [],
        "CategoricalParameterRanges": [],
    }
    for name, spec in ranges.items():
        if "values" in spec:
            kinds["CategoricalParameterRanges"].append({"Name": name, "Values": [as_text(v) for v in spec["values"]]})
            continue
        kind = "IntegerParameterRanges" if spec.get("integer") else "ContinuousParameterRanges"
        kinds[kind].append(
            {
                "Name": name,
                "MinValue": as_text(spec["min"]),
                "MaxValue": as_text(spec["max"]),
                "ScalingType": _SCALING[spec.get("scaling", "auto")],
            }
        )
    return {kind: listed for kind, listed in kinds.items() if listed}


def _range_problems(name: str, spec: dict[str, Any], path: tuple[Any, ...]) -> Iterator[Problem]:
    low, high = spec["min"], spec["max"]
    if low >= high:
        yield Problem(f"the range of {name!r} is empty: min {low} is not below max {high}", path)
    if spec.get("integer") and (low != int(low) or high != int(high)):
        yield Problem(f"an integer range of {name!r} needs whole numbers, found {low} and {high}", path)
    if spec.get("scaling") in ("logarithmic", "reverse_logarithmic") and low <= 0:
        yield Problem(
            f"{spec['scaling']} scaling of {name!r} needs min above 0, found {low}",
            (*path, "min"),
            hint="raise min above 0, or use linear scaling",
        )
