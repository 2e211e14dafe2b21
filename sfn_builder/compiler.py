"""Compile: an analysed spec (its requests checked by validate) -> ASL definition -> JSON text.

Nothing is written unless every task's request fits its API's shape and every
definition fits Step Functions' 1 MB limit: a larger workflow is split into
parts, state machines its own starts (module `split`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from . import history_budget
from .asl import compact, joined, runs_children, walk_states
from .asl_rules import asl_findings
from .aws_rules import item_errors_caught
from .checks import schedule_history_problems
from .collector import without_collections
from .execution_input import given_list
from .model import HISTORY_LIMIT, Workflow
from .naming import part_machine
from .payload import RenderError
from .plan import Plan, make_plan, networks
from .problems import Problem, Severity, errors_in
from .request_check import check_parameters
from .service_models import input_shape
from .split import Splitter, estimated_sizes, region_jumps, step_sizes
from .steps import KINDS
from .steps.polling import POLL_EVENTS
from .validate import Analysis

# Step Functions takes a definition of at most 1 MB, in a request of at most 1 MB: CreateStateMachine's
# JSON body holds the definition as a string (its quotes escaped) beside the name, role, logging and
# tags, for which REQUEST_ROOM_BYTES are kept.
MAX_DEFINITION_BYTES = 1024 * 1024
REQUEST_ROOM_BYTES = 32 * 1024
_BUG = "sfn-build made a definition Step Functions would refuse, a bug in sfn-build, not in the spec"
_REPORT = "please report it with the spec; nothing was written"


@dataclass(frozen=True)
class Compilation:
    """The definition of the workflow's state machine and, when it is too large for one, of its parts
    (numbered from 1; module `split`)."""

    analysis: Analysis
    definition: dict[str, Any] | None
    problems: tuple[Problem, ...]
    parts: dict[int, dict[str, Any]] = field(default_factory=dict)
    text: str | None = field(default=None, repr=False, compare=False)  # the definition's compact JSON, once made
    part_texts: dict[int, str] = field(default_factory=dict, repr=False, compare=False)  # the parts', by number
    plan: Plan | None = None  # as built: in parts when split
    fit: history_budget.Fit = field(default_factory=history_budget.Fit)

    @property
    def ok(self) -> bool:
        return self.definition is not None and not errors_in(self.problems)

    def json(self) -> str:
        """The definition as deterministic, readable JSON (for files and people): see `readable`."""
        return readable(self.definition or {}, self.text)

    def machines(self) -> dict[str, dict[str, Any]]:
        """The parts' definitions by state machine name."""
        assert self.analysis.workflow is not None
        return {part_machine(self.analysis.workflow.name, number): part for number, part in self.parts.items()}

    def whole(self) -> dict[str, Any]:
        """The definition with its parts' states beside its own, for what reads states by name."""
        return joined(self.definition or {}, self.parts.values())

    def part_json(self, number: int) -> str:
        """Part `number`'s definition, as `json` writes the workflow's."""
        return readable(self.parts[number], self.part_texts.get(number))

    def compact_json(self) -> str:
        """The definition as Step Functions receives it (and its size limit counts it)."""
        return self.text if self.text is not None else compact(self.definition or {})

    def histories(self) -> history_budget.Histories | None:
        """The executions the workflow runs its steps in, and their events by estimate (None when refused)."""
        workflow = self.analysis.workflow
        if self.plan is None or workflow is None:
            return None
        return history_budget.histories(workflow, self.plan, self.fit, region_jumps(workflow, self.plan))


# The tasks the compiler adds itself, and the APIs their Parameters are for.
ADDED_TASK_APIS = {
    "arn:aws:states:::sns:publish": ("sns", "Publish"),
    "arn:aws:states:::aws-sdk:s3:getObject": ("s3", "GetObject"),
    "arn:aws:states:::aws-sdk:s3:headObject": ("s3", "HeadObject"),
    **{resource: api for kind in KINDS.values() for resource, api in kind.calls.items()},  # poll loops' calls
}


def _check_added_tasks(definition: dict[str, Any], document: Any) -> list[Problem]:
    """Alert and report-reading tasks are checked against botocore like the steps' own."""
    problems = []
    for name, state in walk_states(definition):
        api = ADDED_TASK_APIS.get(state.get("Resource", ""))
        if api is None or "." not in name:
            continue
        for message in check_parameters(state.get("Parameters", {}), input_shape(*api)):
            step = name.split(".", 1)[0]
            problems.append(
                document.place(Problem(f"the {api[1]} request of {name} would be rejected: {message}", ("steps", step)))
            )
    return problems


@without_collections()
def compile_analysis(analysis: Analysis) -> Compilation:
    if not analysis.ok:
        return Compilation(analysis, None, analysis.problems)
    workflow, plan, graph, document = analysis.workflow, analysis.plan, analysis.graph, analysis.document
    assert workflow is not None and plan is not None and graph is not None and document is not None
    problems = list(analysis.problems)
    requests = dict(analysis.requests)  # every task's, built and checked by validate
    built = _within_limit(analysis, plan, requests)
    if built.definition is None and networks(plan.main) and _too_large(built.problems):
        nested = make_plan(graph, nested=True)
        fallback = _within_limit(analysis, nested, requests)
        if fallback.definition is None:
            built = fallback  # the smallest definition sfn-build can make is too large too: say that one
        else:
            size = next(p for p in built.problems if p.message.startswith(_TOO_LARGE)).message
            warning = Problem(
                f"{size.removesuffix('.')}; so this workflow uses Parallel states only, "
                "and some steps also wait for steps they do not need",
                ("steps",),
                hint="split the workflow into nested workflows (`workflow` steps) to keep every step "
                "waiting for exactly its needs",
                severity=Severity.WARNING,
            )
            problems_then = [document.place(warning), *(document.place(p) for p in nested.problems())]
            built = replace(fallback, problems=[*problems_then, *fallback.problems])
    problems += built.problems
    compiled = workflow if built.workflow is None else built.workflow
    problems += [document.place(p) for p in _items_caught(workflow, compiled)]
    if built.parts and workflow.execution_role is not None:
        problems.append(document.place(_parts_need_the_role(workflow.name, workflow.execution_role, len(built.parts))))
    if built.definition is not None and workflow.execution_role is not None:
        parts = {part_machine(workflow.name, number): part for number, part in built.parts.items()}
        machines = {workflow.name: built.definition, **parts}
        starting = [name for name, definition in machines.items() if _starts_children(definition)]
        if starting:
            problems.append(document.place(_children_need_the_role(starting, workflow.execution_role)))
    compiled_analysis = replace(analysis, workflow=compiled)
    compilation = Compilation(
        compiled_analysis, built.definition, tuple(problems), built.parts, built.text, built.part_texts, built.plan,
        built.fit or history_budget.Fit(),
    )
    later = _history_problems(compilation, document.data) if built.definition is not None else []
    return replace(compilation, problems=(*problems, *map(document.place, later))) if later else compilation


def _history_problems(compilation: Compilation, data: dict[str, Any]) -> list[Problem]:
    """What may pass an execution's history, once the executions are known: a schedule's input lists, and
    status checks of steps that poll until their timeouts."""
    workflow = compilation.analysis.workflow
    assert workflow is not None
    scheduled = any(schedule.input for schedule in workflow.schedules)
    if not scheduled and not history_budget.polls(workflow):
        return []
    histories = compilation.histories()
    assert histories is not None
    problems = schedule_history_problems(workflow, histories, data) if scheduled else []
    known = history_budget.known_inputs(workflow)  # none given (the defaults), then each schedule's
    sources = ["by default, ", *(["in a schedule's input, "] * (len(known) - 1))]
    for execution, (steps, total) in _polls_past(workflow, histories, known).items():
        lists = _lists_named(workflow, steps, list(zip(sources, known, strict=True)))
        problems.append(_polls_past_the_history(execution, (steps, total), lists))
    return problems


def input_polls_problems(compilation: Compilation, given: dict[str, Any]) -> list[Problem]:
    """The status checks that the lists of an execution's input (`given`) would add past the history, were
    the work to run until its timeouts, when more than compile counted (the lists' defaults, and each
    schedule's input): compile warned of those."""
    workflow = compilation.analysis.workflow
    if workflow is None or not history_budget.polls(workflow) or (histories := compilation.histories()) is None:
        return []
    counted = _polls_past(workflow, histories)
    problems = []
    for execution, (steps, total) in _polls_past(workflow, histories, [given]).items():
        if total > counted.get(execution, ([], 0))[1]:
            lists = _lists_named(workflow, steps, [("", given)])
            problems.append(_polls_past_the_history(execution, (steps, total), lists))
    return problems


def _lists_named(workflow: Workflow, steps: list[str], inputs: list[tuple[str, Mapping[str, Any]]]) -> str:
    """The input lists of two items or more that the steps' status checks were counted for, the longest of
    `inputs` (each after where it is), in words; '' when there are none."""
    named = []
    for step in steps:
        found = [
            (listed, where) for where, given in inputs if (listed := given_list(workflow.steps[step], workflow, given))
        ]
        if found:
            (name, count), where = max(found, key=lambda each: each[0][1])
            if count > 1:
                named.append(f"{where}'{name}' holds {count:,} items for {step}")
    return "; ".join(named) + ": " if named else ""


def _polls_past(
    workflow: Workflow, histories: history_budget.Histories, inputs: list[Mapping[str, Any]] | None = None
) -> dict[int, tuple[list[str], int]]:
    """Each execution whose history the status checks of its steps would pass, were the work to run until
    the steps' timeouts (`history_budget.worst_polls`) -> those steps, most checks first, and its events.
    Only a Standard execution keeps a history of limited length."""
    past: dict[int, tuple[list[str], int]] = {}
    if workflow.type != "standard":
        return past
    for execution, polls in history_budget.worst_polls(workflow, histories, inputs).items():
        total = histories.events.get(execution, 0) + sum(polls.values())
        if total > HISTORY_LIMIT:
            past[execution] = (sorted(polls, key=polls.__getitem__, reverse=True), total)
    return past


def _polls_past_the_history(execution: int, past: tuple[list[str], int], lists: str = "") -> Problem:
    steps, total = past
    named = steps[0] if len(steps) == 1 else f"{', '.join(steps[:-1])} and {steps[-1]}"
    return Problem(
        f"{lists}if the work of {named} ran until {'its timeout' if len(steps) == 1 else 'their timeouts'}, the status "
        f"checks ({POLL_EVENTS} events each) would take {history_budget.Histories.described(execution)} to "
        f"{total:,} history events, past the {HISTORY_LIMIT:,} AWS allows: it would fail there",
        ("steps", steps[0]),
        hint="poll less often (poll: 10m), give a shorter timeout, or run a for_each's items as a Distributed "
        "Map (for_each.mode: distributed): each then polls in an execution of its own",
        severity=Severity.WARNING,
    )


def _items_caught(workflow: Workflow, compiled: Workflow) -> list[Problem]:
    """What a catch of the lists that run distributed for the history's sake no longer matches (the steps
    that `history_budget.with_lists_distributed` replaced): validate warned of the others."""
    changed = [step for name, step in compiled.steps.items() if step is not workflow.steps[name]]
    return [problem for step in changed for problem in item_errors_caught(step)]


def _starts_children(definition: dict[str, Any]) -> bool:
    """Whether a definition runs a Distributed Map (a list's items, or signals to many waiting steps), whose
    items are child executions of the state machine itself."""
    return any(runs_children(body) for _, body in walk_states(definition))


def _children_need_the_role(machines: list[str], role: str) -> Problem:
    """The spec's own role starts Distributed Maps' child executions: what it must allow."""
    return Problem(
        f"Distributed Maps run their items as child executions of {', '.join(machines)}, with the role {role}",
        ("execution_role",),
        hint="allow states:StartExecution on those state machines, and states:DescribeExecution and "
        "states:StopExecution on their child executions (execution:<machine>/*:*), and reading the items and "
        "writing the results where they are in S3; or remove execution_role: create makes one",
        severity=Severity.WARNING,
    )


def _parts_need_the_role(name: str, role: str, parts: int) -> Problem:
    """The spec's own role runs the parts too: what it must allow, which `create` cannot grant it."""
    machines = [part_machine(name, number) for number in range(1, parts + 1)]
    return Problem(
        f"this workflow runs as {parts + 1} state machines ({name}, {', '.join(machines)}: its definition is "
        f"over Step Functions' 1 MB), all with the role {role}",
        ("execution_role",),
        hint="let states.amazonaws.com assume it for each of them, and allow states:StartExecution on those "
        "parts, states:DescribeExecution and states:StopExecution on their executions (execution:<part>:*), and "
        "events:PutTargets, events:PutRule and events:DescribeRule on "
        "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule (or remove execution_role: create makes one)",
        severity=Severity.WARNING,
    )


def readable(definition: dict[str, Any], text: str | None = None) -> str:
    """A definition indented, or compact when indenting takes it past what Step Functions accepts: a
    file that other tools (the AWS CLI, Terraform, CDK) send as it is written must fit, as `create`'s does.
    Indenting is tried only when the least it adds leaves room (a part near the limit is not indented).
    `text`: the definition's compact JSON, when already made."""
    text = text if text is not None else compact(definition)
    if request_bytes(text) + _least_indenting(text) <= MAX_DEFINITION_BYTES - REQUEST_ROOM_BYTES:
        indented = json.dumps(definition, indent=2, ensure_ascii=False) + "\n"
        if request_bytes(indented) <= MAX_DEFINITION_BYTES - REQUEST_ROOM_BYTES:
            return indented
    return text + "\n"


def _least_indenting(compact_text: str) -> int:
    """The fewest request bytes that indenting adds to a compact definition: each key goes on a line of
    its own (a newline, escaped: 2 bytes, and at least 2 spaces) and gets a space after its colon. A key
    ends in `":`, which a string holds only escaped (`\\":`, not counted: a key ending in a backslash
    is not counted either, so this is never more)."""
    return 5 * (compact_text.count('":') - compact_text.count('\\":'))


def request_bytes(compact_text: str) -> int:
    """The bytes a definition (its compact text) takes in the CreateStateMachine request: `create` sends
    it compact, and botocore puts that text in the JSON body as a string, escaped (quotes, and non-ASCII
    as \\uXXXX)."""
    return len(json.dumps(compact_text))


def _too_large_problem(size: int, *, markers: bool) -> Problem:
    what = _TOO_LARGE if markers else "the state machine definition is"
    return Problem(
        f"{what} {size:,} bytes as the CreateStateMachine request holds it; Step Functions accepts requests of "
        f"at most {MAX_DEFINITION_BYTES:,} bytes (and sfn-build keeps {REQUEST_ROOM_BYTES:,} for the rest of it).",
        ("steps",),
        hint="move part of the steps into another workflow and start it with a `workflow` step",
    )


_TOO_LARGE = "with completion markers, the state machine definition is"


def _too_large(problems: list[Problem]) -> bool:
    return any(problem.message.startswith(_TOO_LARGE) for problem in problems)


@dataclass(frozen=True)
class _Built:
    """A built definition and its parts' (None when refused), its problems, what was too large, the
    compact JSON of the definition and of each part, and the workflow, plan and fit it was built from (some
    lists distributed, the plan in parts: modules `history_budget` and `split`)."""

    definition: dict[str, Any] | None
    parts: dict[int, dict[str, Any]]
    problems: list[Problem]
    too_large: dict[str, Any] | None = None
    text: str | None = None
    part_texts: dict[int, str] = field(default_factory=dict)
    workflow: Workflow | None = None
    plan: Plan | None = None
    fit: history_budget.Fit | None = None


def _built(
    analysis: Analysis, plan: Plan, requests: dict[str, dict[str, Any]], fit: history_budget.Fit | None = None
) -> _Built:
    """The definitions of a plan (None when one cannot be built or is refused), and their problems.
    `fit`: how its executions keep within their history (`history_budget.fitted`), when known."""
    from .build import build_definition  # imports the Step Functions SDK: only when compiling

    graph, document = analysis.graph, analysis.document
    assert analysis.workflow is not None and graph is not None and document is not None
    jumps = region_jumps(analysis.workflow, plan)
    if fit is None:
        fit = history_budget.fitted(analysis.workflow, plan, jumps)
    workflow = history_budget.with_lists_distributed(analysis.workflow, fit)
    if history_budget.polls(workflow):
        workflow = history_budget.with_polls_spaced(workflow, history_budget.histories(workflow, plan, fit, jumps))
    problems: list[Problem] = []
    try:
        definition, parts, part_texts = build_definition(workflow, plan, graph, requests, fit.from_children)
        text = compact(definition)
    except RenderError as error:
        return _Built(None, {}, [document.place(Problem(str(error), ("steps",)))])
    except ValueError:
        not_json = Problem(f"{_BUG}: a number is infinite or NaN", ("steps",), hint=_REPORT)
        return _Built(None, {}, [document.place(not_json)])
    for each, each_text in ((definition, text), *((part, part_texts.get(n)) for n, part in parts.items())):
        problems += _check_added_tasks(each, document)
        problems += [
            document.place(Problem(f"{_BUG} ({finding})", ("steps",), hint=_REPORT))
            for finding in asl_findings(each, each_text)
        ]
    if errors_in(problems):
        return _Built(None, {}, problems)
    size = max(request_bytes(each) for each in (text, *part_texts.values()))
    if size > MAX_DEFINITION_BYTES - REQUEST_ROOM_BYTES:
        too_large = document.place(_too_large_problem(size, markers=bool(networks(plan.main))))
        return _Built(None, {}, [*problems, too_large], definition)
    return _Built(definition, parts, problems, text=text, part_texts=part_texts, workflow=workflow, plan=plan, fit=fit)


def _within_limit(analysis: Analysis, plan: Plan, requests: dict[str, dict[str, Any]]) -> _Built:
    """The plan built, split into parts (module `split`) when it is over 1 MB, or its history over
    history_budget.EVENTS_BUDGET events by estimate, and can be: by sizes estimated from the
    requests when that is plain (no definition of it all is built; estimated from ESTIMATE_FROM_TASKS
    tasks), else by the sizes of the states of the one built; a step's size counts its events too, so that
    each part's history fits as well. A list runs distributed for the history's sake only when that spares
    a split: a split workflow's parts are sized to run their lists inline. An Express workflow cannot wait
    for another: not split."""
    workflow = analysis.workflow
    assert workflow is not None
    standard = workflow.type == "standard"
    fit = history_budget.fitted(workflow, plan, region_jumps(workflow, plan))
    events = history_budget.step_events(workflow, plan, replace(fit, distributed=frozenset()))
    if standard and len(requests) >= ESTIMATE_FROM_TASKS:
        estimated = estimated_sizes(workflow, plan, requests)
        if sum(estimated.values()) > PLAINLY_TOO_LARGE * MAX_DEFINITION_BYTES:
            parted = _split(analysis, plan, requests, _with_events(estimated, events))
            if parted is not None:
                return parted
    built = _built(analysis, plan, requests, fit)
    fitting = sum(history_budget.step_events(workflow, plan, fit).values()) <= history_budget.EVENTS_BUDGET
    too_long = None if fitting else built.definition
    whole = built.too_large if built.too_large is not None else too_long
    if whole is None or not standard:
        return built
    return _split(analysis, plan, requests, _with_events(step_sizes(whole), events)) or built


def _with_events(sizes: dict[str, int], events: dict[str, int]) -> dict[str, int]:
    """Each step's size for the split: its bytes, or its events' share of a part's budget when that is more
    (a part of PART_BUDGET_BYTES then holds at most history_budget.EVENTS_BUDGET events)."""
    per_event = PART_BUDGET_BYTES / history_budget.EVENTS_BUDGET
    return {step: max(size, math.ceil(events.get(step, 0) * per_event)) for step, size in sizes.items()}


# Each part's size by estimate: a margin under the limit for the estimate's error; how far over the limit
# an estimate must be to be trusted without building it all; and from how many tasks a definition is
# estimated first (below, one over 1.5 MB would need 3 KB a task: rare enough to be built twice then).
PART_BUDGET_BYTES = 800 * 1024
PLAINLY_TOO_LARGE = 1.5
ESTIMATE_FROM_TASKS = 500


def _split(
    analysis: Analysis, plan: Plan, requests: dict[str, dict[str, Any]], sizes: dict[str, int]
) -> _Built | None:
    """The plan in parts of the budget by `sizes` (halved while a part is still too large), or None."""
    assert analysis.workflow is not None
    jumps = region_jumps(analysis.workflow, plan)
    budget = PART_BUDGET_BYTES
    for _ in range(4):
        parted = Splitter(sizes, budget, jumps).split(plan)
        if parted is None:
            return None
        attempt = _built(analysis, parted, requests)
        if attempt.too_large is None:
            return attempt
        budget //= 2
    return None
