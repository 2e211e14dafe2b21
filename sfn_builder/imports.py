"""Loading a module without running its parent packages' `__init__`.

Some packages import far more in their `__init__` than one of their modules needs:
`stepfunctions` imports the SageMaker SDK (seconds) for its state classes, and
`moto.batch` imports all of moto's EC2 (1.5 s) for one enum Step Functions' Batch
task uses. `load_alone` loads such a module with each parent package standing in
empty for the moment, then removes the stand-ins: a later ordinary import of a
parent runs its real `__init__`, which finds the module already loaded.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types


def load_alone(module: str, parents: tuple[str, ...]) -> types.ModuleType:
    """`module`, with the `parents` not yet imported standing in empty while it loads."""
    if module in sys.modules:
        return sys.modules[module]
    stand_ins = []
    try:
        for name in parents:
            if name in sys.modules:
                continue
            spec = importlib.util.find_spec(name)
            if spec is None or not spec.submodule_search_locations:
                raise ImportError(f"{name} is not an installed package")
            package = types.ModuleType(name)
            package.__path__ = list(spec.submodule_search_locations)
            sys.modules[name] = package
            stand_ins.append(name)
        return importlib.import_module(module)
    finally:
        for name in stand_ins:
            sys.modules.pop(name, None)
