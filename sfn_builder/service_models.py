"""The AWS service models that ship with botocore: shapes and enums.

Importing botocore and loading the SageMaker model takes about 0.2 s, too
much for `sfn-build validate`, which needs only a few enums (instance types).
Those (and the results' shapes, and the exceptions of each step type's API)
are cached as JSON under the user's cache directory, keyed by the installed
botocore version, so they are read from botocore once per version.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

from .files import write_atomically
from .service_shapes import Shape, operation_input

ENUMS = {
    "processing": ("sagemaker", "ProcessingInstanceType"),
    "training": ("sagemaker", "TrainingInstanceType"),
    "tuning": ("sagemaker", "TrainingInstanceType"),
    "transform": ("sagemaker", "TransformInstanceType"),
    "endpoint": ("sagemaker", "ProductionVariantInstanceType"),
}
RESULTS = {
    "processing": ("sagemaker", "DescribeProcessingJobResponse", False),
    "training": ("sagemaker", "DescribeTrainingJobResponse", False),
    "tuning": ("sagemaker", "DescribeHyperParameterTuningJobResponse", False),
    "transform": ("sagemaker", "DescribeTransformJobResponse", False),
    "model": ("sagemaker", "CreateModelOutput", False),
    "register": ("sagemaker", "CreateModelPackageOutput", False),
    "pipeline": ("sagemaker", "DescribePipelineExecutionResponse", False),
    "endpoint": ("sagemaker", "DescribeEndpointOutput", False),
    "batch": ("batch", "JobDetail", True),
    "sns": ("sns", "PublishResponse", False),
    "workflow": ("stepfunctions", "DescribeExecutionOutput", False),
}
_TREE_DEPTH = 8


@cache
def service_model(service: str) -> Any:
    """botocore's `ServiceModel` for `service` (e.g. 'sagemaker', 'batch')."""
    import botocore.loaders
    import botocore.model

    data = botocore.loaders.create_loader().load_service_model(service, "service-2")
    return botocore.model.ServiceModel(data, service_name=service)


@cache
def input_shape(service: str, operation: str) -> Shape | None:
    """One operation's input shape (module `service_shapes`)."""
    return operation_input(_model_part(service, operation), operation)


_parts: dict[str, dict[str, Any]] = {}  # per service: the part of its model read or made in this process


def _model_part(service: str, operation: str) -> dict[str, Any]:
    """The part of the service model holding `operation` and the operations asked for before: a cached
    file per service, read once per process, that grows by the operations asked for (the SageMaker
    model is megabytes of JSON; a compile needs a few of its operations)."""
    path = _cache_dir() / f"model-{service}-botocore-{_botocore_version()}.json"
    if service not in _parts:
        try:
            _parts[service] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            _parts[service] = {}
    if operation not in _parts[service].get("operations", {}):
        full = service_model(service)._service_description
        _parts[service] = _with_operation(_parts[service], full, operation)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, json.dumps(_parts[service]).encode("utf-8"))
        except OSError:
            pass  # a read-only home only costs speed
    return _parts[service]


def _with_operation(part: dict[str, Any], full: dict[str, Any], operation: str) -> dict[str, Any]:
    """`part` (a service model holding some operations) with `operation` and every shape it reaches."""
    body = full["operations"][operation]
    refs = [body[k]["shape"] for k in ("input", "output") if k in body]
    refs += [error["shape"] for error in body.get("errors", [])]
    shapes = dict(part.get("shapes", {}))
    while refs:
        name = refs.pop()
        if name in shapes:
            continue
        shape = shapes[name] = full["shapes"][name]
        refs += [member["shape"] for member in shape.get("members", {}).values()]
        refs += [shape[k]["shape"] for k in ("member", "key", "value") if k in shape]
    operations = {**part.get("operations", {}), operation: body}
    return {"version": full.get("version"), "metadata": full["metadata"], "operations": operations, "shapes": shapes}


def instance_types(step_type: str) -> tuple[str, ...]:
    """The instance types the SageMaker API accepts for this kind of job."""
    return tuple(_cached()["enums"][step_type])


def error_shapes(step_type: str) -> tuple[str, ...]:
    """The exceptions botocore's model lists for the API a step type calls."""
    return tuple(_cached()["errors"].get(step_type, ()))


def result_tree(step_type: str) -> dict[str, Any] | None:
    """The shape of a step type's result as nested dicts: type, members, required."""
    return _cached()["results"].get(step_type)


def _tree(shape: Any, capitalize: bool, depth: int = 0) -> dict[str, Any]:
    node: dict[str, Any] = {"type": shape.type_name}
    if depth >= _TREE_DEPTH:
        return node
    if shape.type_name == "structure":
        name = (lambda m: m[:1].upper() + m[1:]) if capitalize else (lambda m: m)
        node["required"] = [name(m) for m in shape.required_members]
        node["members"] = {name(m): _tree(s, capitalize, depth + 1) for m, s in shape.members.items()}
    elif shape.type_name == "list":
        node["member"] = _tree(shape.member, capitalize, depth + 1)
    elif shape.type_name == "map":
        node["value"] = _tree(shape.value, capitalize, depth + 1)
    return node


@cache
def _cached() -> dict[str, Any]:
    cache_file = _cache_dir() / f"models-botocore-{_botocore_version()}.json"
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8"))
        if (set(data.get("enums", {})), set(data.get("results", {})), set(data.get("errors", {}))) == (
            set(ENUMS),
            set(RESULTS),
            set(_error_apis()),
        ):
            return data
    except (OSError, ValueError):
        pass
    data = {
        "enums": {key: list(service_model(svc).shape_for(shape).enum) for key, (svc, shape) in ENUMS.items()},
        "results": {
            key: _tree(service_model(svc).shape_for(shape), capitalize)
            for key, (svc, shape, capitalize) in RESULTS.items()
        },
        "errors": {
            key: [error.name for error in service_model(svc).operation_model(operation).error_shapes]
            for key, (svc, operation) in _error_apis().items()
        },
    }
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(cache_file, json.dumps(data).encode("utf-8"))
    except OSError:
        pass  # a read-only home only costs speed
    return data


def _error_apis() -> dict[str, tuple[str, str]]:
    """The API each task step type calls (its exceptions are the errors it can raise)."""
    from .steps import KINDS  # the step kinds read this module's facts: imported when used

    return {name: kind.api for name, kind in KINDS.items() if kind.api is not None}


@cache
def _botocore_version() -> str:
    """botocore's version, read from its package file: importing botocore (its logging, its regexes)
    costs a tenth of `validate`'s start, and importlib.metadata more."""
    loaded = sys.modules.get("botocore")
    if loaded is None:
        spec = importlib.util.find_spec("botocore")
        if spec is not None and spec.origin is not None:
            found = _VERSION_LINE.search(Path(spec.origin).read_text(encoding="utf-8"))
            if found is not None:
                return found.group(1)
    import botocore

    return botocore.__version__


_VERSION_LINE = re.compile(r"^__version__ = ['\"]([^'\"]+)['\"]", re.MULTILINE)


def _cache_dir() -> Path:
    from .user_cache import cache_folder

    return cache_folder()
