"""A fuzzer over the loader, validator, compiler and output writer.

Cases come from four sources, all derived from the examples and the schema:
- byte mutations of the example specs (flips, insertions of YAML's and JSON's special
  characters, cuts);
- structure mutations (lines deleted, duplicated, re-indented; values replaced by values
  of other types or by awkward text);
- specs generated from the schema: steps of every type with fields chosen from the
  schema's properties, filled from its `examples`, `enum`s or values of the wrong type;
- one to three values of an example replaced by awkward ones (zero, empty, huge, of another type)
  or by other values of the same spec.

A case passes when the pipeline ends in a definition or in problems, every problem
(an empty spec aside) says where it is, and the definition can be written as UTF-8.
Anything else is a finding: an exception ("internal error"), a problem without a line, or a
spec that validate accepts and compile refuses (its definition, or a request it adds).

    python tests/fuzz.py --cases 200000 --seed 1     # a long run; prints the findings by class
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import traceback
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sfn_builder.compiler import compile_analysis  # noqa: E402
from sfn_builder.loader import load_bytes  # noqa: E402
from sfn_builder.problems import SpecError  # noqa: E402
from sfn_builder.schema import workflow_schema  # noqa: E402
from sfn_builder.validate import analyze  # noqa: E402

EXAMPLES = [path.read_bytes() for path in sorted((ROOT / "workflows").glob("*.yaml"))]
EXAMPLES += [path.read_bytes() for path in sorted((ROOT / "tests" / "specs").glob("*.yaml"))]
SPECIAL = [
    b"'", b'"', b"{", b"}", b"[", b"]", b"\\", b"\t", b":", b"#", b"&a", b"*a", b"!", b"|", b">", b"-", b"${",
    b"$${", b"\xc3\xa9", b"\xf0\x9f\x9a\x80", b"\xff", b"\x00", b"\r", b"\\ud800", b"%", b"@", b"`", b"\xe2\x80\xa8",
]  # fmt: skip
VALUES = [
    "1", "-1", "0", "1.5", "1e400", "-.inf", ".nan", "[]", "{}", "null", "~", "true", "NO", "12:30", "'x'",
    "[a, b]", "{a: 1}", "'${input.x}'", "'${steps.train.x}'", "'${item}'", "'${error.Cause}'", "'${'", "'${}'",
    "'${steps.}'", "'${input.run_date.x[0]}'", "fail", "succeed", "2h", "0s", "99999999d", "'s3://b/k'",
    "'s3://churn-data/'", "/opt/ml/processing/x", "ml.m5.xlarge", "[fail]", "'\\ud800'", "\"\\ud800\"",
    "'\U0001f680'", "'a\\tb'", "cron(0 3 * * ? *)", "rate(0 minutes)", "cron(", "'x' * 3", "&anchor 1", "*anchor",
    "'arn:aws:iam::111122223333:role/x'", "'arn:aws:sns:eu-west-1:1:t'", "{errors: [States.ALL], next: fail}",
    "[{errors: [States.ALL], next: succeed, then: fallback}]", "{items: '${input.x}'}", "2026-01-01",
]  # fmt: skip


def byte_mutation(rng: random.Random) -> bytes:
    data = bytearray(rng.choice(EXAMPLES))
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data) + 1)
        operation = rng.random()
        if operation < 0.4:
            data[at:at] = rng.choice(SPECIAL)
        elif operation < 0.7 and at < len(data):
            del data[at : at + rng.randint(1, 8)]
        elif at < len(data):
            data[at] = rng.randrange(256)
    return bytes(data)


def structure_mutation(rng: random.Random) -> bytes:
    lines = rng.choice(EXAMPLES).decode("utf-8").splitlines()
    for _ in range(rng.randint(1, 4)):
        n = rng.randrange(len(lines))
        operation = rng.choice(["delete", "duplicate", "replace", "indent", "dedent"])
        if operation == "delete":
            del lines[n]
        elif operation == "duplicate":
            lines.insert(n, lines[rng.randrange(len(lines))])
        elif operation == "indent":
            lines[n] = "  " + lines[n]
        elif operation == "dedent":
            lines[n] = lines[n][2:]
        elif ":" in lines[n]:
            lines[n] = lines[n].split(":", 1)[0] + ": " + rng.choice(VALUES)
        if not lines:
            lines = ["version: 1"]
    return ("\n".join(lines) + "\n").encode("utf-8")


def schema_generated(rng: random.Random) -> bytes:
    """A spec built from the schema: steps of random types, fields from the type's properties."""
    schema = workflow_schema()
    defs = schema["$defs"]
    step_types = [name.removesuffix("_step") for name in defs if name.endswith("_step")]
    names = [f"s{n}" for n in range(rng.randint(1, 6))]
    steps = {}
    for name in names:
        step_type = rng.choice(step_types) if step_types else "wait"
        properties = defs.get(f"{step_type}_step", {}).get("properties", {})
        step: dict = {"type": step_type}
        for field in rng.sample(sorted(properties), k=min(len(properties), rng.randint(0, 6))):
            if field == "type":
                continue
            step[field] = _value(rng, properties[field], defs, names)
        steps[name] = step
    spec = {"version": 1, "name": rng.choice(["demo", "Demo_1", "x" * 90, "a-b"]), "steps": steps}
    if rng.random() < 0.3:
        spec["input"] = {"x": {"type": rng.choice(["string", "number", "array", "object", "boolean", "bad"])}}
    if rng.random() < 0.3:
        spec["notifications"] = {"topic": rng.choice(["arn:aws:sns:eu-west-1:111122223333:t", {"name": "t"}, 3])}
    return yaml.safe_dump(spec, allow_unicode=True, sort_keys=False).encode("utf-8")


def _value(rng: random.Random, prop: dict, defs: dict, names: list[str], depth: int = 0):
    if "$ref" in prop:
        prop = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
    roll = rng.random()
    if roll < 0.15 or depth > 3:
        return rng.choice([*names, "fail", "succeed", 1, -1, None, True, "${input.x}", "${steps.s0.x}", [], {}])
    if "examples" in prop and roll < 0.6:
        return rng.choice(prop["examples"])
    if "enum" in prop:
        return rng.choice(prop["enum"])
    kind = prop.get("type")
    kind = rng.choice(kind) if isinstance(kind, list) else kind
    if kind == "object" and "properties" in prop:
        chosen = rng.sample(sorted(prop["properties"]), k=min(len(prop["properties"]), rng.randint(0, 4)))
        return {key: _value(rng, prop["properties"][key], defs, names, depth + 1) for key in chosen}
    if kind == "array":
        return [_value(rng, prop.get("items", {}), defs, names, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind in ("integer", "number"):
        return rng.choice([0, 1, -5, 10**12, 3600, 0.5])
    if kind == "boolean":
        return rng.random() < 0.5
    return rng.choice(["x", "", "${input.x}", "s3://bucket-x/k", "a" * 300, "ünï", rng.choice(names)])


AWKWARD = [
    "0s", 0, -1, 1, "", " ", 99_999_999, 100_000_000, 2**31, 1.5, True, None, "x" * 300, "${input.nope}", "a b",
    "ü", "99999999d", "s3://b/", "arn:aws:iam::111122223333:role/x", [], {}, [[]], {"a": {}},
]  # fmt: skip
PARSED_EXAMPLES = [yaml.safe_load(raw) for raw in EXAMPLES]


def leaf_substitution(rng: random.Random) -> bytes:
    """An example with one to three values replaced, each by an awkward one or by another value of the
    same spec (a path where a URI goes, a step's name where a number goes): most stay valid elsewhere, so
    what the compiler makes of the values is reached (a valid spec must compile to a definition AWS takes)."""
    spec = copy.deepcopy(rng.choice(PARSED_EXAMPLES))
    leaves: list[tuple[Any, Any]] = []  # (container, key) of every scalar
    stack = [spec]
    while stack:
        node = stack.pop()
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(value, dict | list) and value:
                stack.append(value)
            else:
                leaves.append((node, key))
    values = [container[key] for container, key in leaves]
    for container, key in rng.sample(leaves, min(len(leaves), rng.choice((1, 1, 2, 3)))):
        container[key] = copy.deepcopy(rng.choice(AWKWARD) if rng.random() < 0.6 else rng.choice(values))
    return yaml.safe_dump(spec, allow_unicode=True, sort_keys=False).encode("utf-8")


GENERATORS = {
    "bytes": byte_mutation,
    "structure": structure_mutation,
    "schema": schema_generated,
    "leaf": leaf_substitution,
}


def cases(count: int, seed: int) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    kinds = list(GENERATORS)
    for n in range(count):
        kind = kinds[n % len(kinds)]
        yield kind, GENERATORS[kind](rng)


def finding(raw: bytes) -> str | None:
    """None when the pipeline handled `raw` well; else the class of what went wrong."""
    try:
        try:
            document = load_bytes(raw, "fuzz.yaml")
        except SpecError as error:
            problems = error.problems
        else:
            analysis = analyze(document)
            compilation = compile_analysis(analysis)
            problems = compilation.problems
            if compilation.ok:
                compilation.json().encode("utf-8")
                compilation.compact_json().encode("utf-8")
            elif analysis.ok:  # validate let through what compile (or AWS) refuses
                return f"valid, not compiled: {_shape(next(p for p in problems if p.is_error).message)}"
        unplaced = [p for p in problems if p.position is None and p.message != "the spec is empty"]
        if unplaced:
            return f"no line: {_shape(unplaced[0].message)}"
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        return f"crash: {type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"
    return None


def _shape(message: str) -> str:
    """A message with its quoted parts blanked, so findings group by class."""
    out, quoted = [], False
    for char in message:
        if char == "'":
            quoted = not quoted
            out.append(char)
        elif not quoted:
            out.append(char)
    return "".join("N" if char.isdigit() else char for char in "".join(out))[:100]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save", type=Path, help="write one reproducer per class here")
    args = parser.parse_args()
    classes: Counter[str] = Counter()
    examples: dict[str, bytes] = {}
    for kind, raw in cases(args.cases, args.seed):
        found = finding(raw)
        if found:
            classes[f"{kind}: {found}"] += 1
            examples.setdefault(found, raw)
    print(f"{args.cases} cases, {sum(classes.values())} findings in {len(classes)} classes")
    for name, count in classes.most_common():
        print(f"{count:7}  {name}")
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for n, raw in enumerate(examples.values()):
            (args.save / f"finding-{n}.yaml").write_bytes(raw)
    return 1 if classes else 0


if __name__ == "__main__":
    sys.exit(main())
