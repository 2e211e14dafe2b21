"""The fuzzer (`tests/fuzz.py`), bounded, and the reproducers of what it found, kept.

A longer run: `python tests/fuzz.py --cases 200000 --seed 1`.
"""

from __future__ import annotations

import pytest
from fuzz import cases, finding

REPRODUCERS = {
    # libyaml's ReaderError has an index, not a mark: the message had no line
    "a control character": b"version: 1\nname: a\x07b\nsteps: {}\n",
    # an `arguments` key is literal text; `${` in one reached the renderer as a template
    "${ in an arguments key": (
        b"version: 1\nname: demo\nsteps:\n  prep:\n    type: processing\n"
        b"    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/x:1\n"
        b"    role: arn:aws:iam::111122223333:role/r\n    instance_type: ml.m5.xlarge\n    entrypoint: [x]\n"
        b"    arguments:\n      in${put: 1\n"
    ),
    # then: fallback to a step that does not exist (reported as an unknown step, not a KeyError)
    "a fallback that is not a step": (
        b"version: 1\nname: demo\nsteps:\n  a:\n    type: lambda\n    function: f\n"
        b"    catch: [{errors: [States.ALL], next: nope, then: fallback}]\n"
        b"  b:\n    type: lambda\n    needs: [a]\n    function: f\n    payload: {x: '${steps.a.y}'}\n"
    ),
    # a request tag whose key is a list (a TypeError merging the tags)
    "a request tag keyed by a list": (
        b"version: 1\nname: demo\nsteps:\n  prep:\n    type: processing\n"
        b"    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/x:1\n"
        b"    role: arn:aws:iam::111122223333:role/r\n    instance_type: ml.m5.xlarge\n    entrypoint: [x]\n"
        b"    request: {Tags: [{Key: [], Value: v}]}\n"
    ),
    # valid specs whose definitions the compiler's own ASL checks refused: a Wait longer than AWS allows
    # from `poll`, a blank alarm name in the endpoint's UpdateEndpoint, a zero timeout
    "a poll longer than any Wait": (
        b"version: 1\nname: demo\nsteps:\n  score:\n    type: pipeline\n    pipeline: p\n"
        b"    poll: 99999999d\n"
    ),
    "a blank alarm name": (
        b"version: 1\nname: demo\ndefaults:\n  sagemaker:\n"
        b"    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/x:1\n"
        b"    role: arn:aws:iam::111122223333:role/r\nsteps:\n  serve:\n    type: endpoint\n    endpoint: e\n"
        b"    model: m\n    instance_type: ml.m5.large\n    alarms: [' ']\n"
    ),
    "a timeout of no time": b"version: 1\nname: demo\nsteps:\n  a: {type: lambda, function: f, timeout: 0s}\n",
    # a Batch memory written as a whole float (1e308 is an integer to JSON Schema): a TypeError reading it
    "a memory written as a float": (
        b"version: 1\nname: demo\nsteps:\n  copy:\n    type: batch\n    job_queue: q\n    job_definition: d:1\n"
        b"    resources: {vcpus: 1, memory: 1.0e+308}\n"
    ),
    # a cron expression cut before its ')' (found by a 200,000-case run)
    "an unclosed cron expression": b"version: 1\nname: demo\nsteps:\n  a: {type: wait, seconds: 1}\n"
    b"schedule:\n  expression: cron(0 3 \n",
}


@pytest.mark.parametrize("name", list(REPRODUCERS))
def test_what_the_fuzzer_found_stays_fixed(name):
    assert finding(REPRODUCERS[name]) is None


def test_a_bounded_fuzz_run_finds_nothing():
    found = {}
    for kind, raw in cases(1500, seed=20261121):
        problem = finding(raw)
        if problem:
            found.setdefault(f"{kind}: {problem}", raw)
    assert not found, "\n".join(f"{name}\n  {raw[:300]!r}" for name, raw in found.items())
