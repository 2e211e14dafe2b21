"""Generated workflow specs for the benchmarks: chains, wide fan-outs and random DAGs."""

from __future__ import annotations

import random

SHAPES = ("chain", "fanout", "dag")
HEADER = """\
version: 1
name: bench-{shape}-{size}
input:
  run_date: {{type: string, default: latest}}
defaults:
  sagemaker:
    role: arn:aws:iam::111122223333:role/bench-sagemaker
    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/bench:1
    instance_type: ml.m5.xlarge
  timeout: 2h
steps:
"""
STEP = """\
  step_{n}:
    type: processing
    needs: [{needs}]
    entrypoint: [python3, run.py]
    arguments: {{step: "{n}", day: "${{input.run_date}}"}}
    inputs: [{{source: "s3://bench-data/in/{n}/", destination: /opt/ml/processing/input}}]
    outputs: [{{source: /opt/ml/processing/output, destination: "s3://bench-data/out/{n}/"}}]
"""


def edges(shape: str, size: int, seed: int = 7) -> dict[int, list[int]]:
    """Each step's needs (indexes of earlier steps)."""
    if shape == "chain":
        return {n: [n - 1] if n else [] for n in range(size)}
    if shape == "fanout":  # one source, size-2 independent steps, one sink
        last = size - 1
        return {n: [] if n == 0 else [0] if n < last else list(range(1, last)) for n in range(size)}
    rng = random.Random(seed)
    return {n: sorted(rng.sample(range(n), k=min(n, rng.randint(1, 3)))) if n else [] for n in range(size)}


def spec(shape: str, size: int) -> str:
    needs = edges(shape, size)
    body = "".join(STEP.format(n=n, needs=", ".join(f"step_{m}" for m in needs[n])) for n in range(size))
    return HEADER.format(shape=shape, size=size) + body


READING_STEP = """\
  step_{n}:
    type: processing
    needs: [step_{m}]
    entrypoint: [python3, run.py]
    inputs:
      - source: "${{steps.step_{m}.ProcessingOutputConfig.Outputs[0].S3Output.S3Uri}}"
        destination: /opt/ml/processing/input
    outputs: [{{source: /opt/ml/processing/output, destination: "s3://bench-data/out/{n}/"}}]
"""


def reading_chain(size: int) -> str:
    """A chain whose every step reads the one before's output: the state keeps a result a step."""
    first = STEP.format(n=0, needs="")
    body = "".join(READING_STEP.format(n=n, m=n - 1) for n in range(1, size))
    return HEADER.format(shape="reading", size=size) + first + body


LADDER_STEP = """\
  {chain}{n}:
    type: processing
    needs: [{needs}]
    entrypoint: [python3, run.py]
    inputs:
      - source: "${{steps.{chain}{m}.ProcessingOutputConfig.Outputs[0].S3Output.S3Uri}}"
        destination: /opt/ml/processing/input
    outputs: [{{source: /opt/ml/processing/output, destination: "s3://bench-data/out/{chain}{n}/"}}]
"""


def reading_ladder(size: int) -> str:
    """Two chains of size/2 steps, each reading the output of the one before in its chain, each b step also
    needing the a step before it: not series-parallel (a network), and the state keeps a result a step."""
    body = ""
    for n in range(size // 2):
        for chain in "ab":
            if n == 0:
                body += STEP.format(n=0, needs="").replace("step_0", f"{chain}0")
                continue
            needs = f"{chain}{n - 1}" + (f", a{n - 1}" if chain == "b" else "")
            body += LADDER_STEP.format(chain=chain, n=n, m=n - 1, needs=needs)
    return HEADER.format(shape="ladder", size=size) + body
