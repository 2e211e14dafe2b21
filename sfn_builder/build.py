"""Build: the model and its plan -> Step Functions SDK states -> an ASL definition.

The state document every state sees is
`{"input": {...}, "steps": {"<step>": <kept result>, ...}, "items": {...}}`
(plus `item` inside a Map iteration and `error` after a catch). A Parallel
state's ResultSelector folds its branches' documents back into one, taking
each kept result from the branch that produced it.

States are collected per scope (the top level, each Parallel branch, each
Map iterator) in the order they are made; failure paths come last.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from . import choice_reasons, marker_states, sdk
from .asl import ALERT_RESOURCE, ENDED_ERROR, FAILED_ERROR_SUFFIX, FAILED_STEP, compact, walk_states
from .aws_rules import CATCH_ALL
from .graph import StepGraph
from .kept_results import least_bytes
from .markers import ALREADY_DONE
from .model import Step, Workflow
from .naming import (
    CACHE_LOOKUP,
    RESUME_INPUT,
    TAG_CACHE_KEY,
    aux_state,
    job_prefix,
    markers_table,
    part_alias,
    part_machine,
    part_state,
    resource_name,
    result_keys,
)
from .parent_execution import PARENT_EXECUTION, from_parent_execution, parent_selector
from .payload import Renderer, jsonpath, quote
from .plan import (
    Leaf,
    Network,
    Node,
    Parallel,
    Part,
    Plan,
    Sequence,
    leaves,
    network_firsts,
    network_sends,
    network_waits,
)
from .poll_states import poll_states
from .result_lifetimes import Keep, lifetimes
from .results import ResultSpec, member_reads, result_specs, step_references
from .service_models import input_shape
from .steps import KINDS
from .steps.nested import arn_in_own_account
from .steps.processing import report_uri
from .templates import Reference, parse_path, parse_template

PART_RESOURCE = "arn:aws:states:::states:startExecution.sync:2"
PART_START_ERRORS = ["StepFunctions.ExecutionLimitExceeded", "StepFunctions.SdkClientException"]
REPORT_RESOURCE = "arn:aws:states:::aws-sdk:s3:getObject"
REPORT_SIZE_RESOURCE = "arn:aws:states:::aws-sdk:s3:headObject"
# Reports are read into the state, which Step Functions limits to 256 KiB: they share 192 KiB of it
# (64 KiB each at most), and a report larger than its share fails its step.
REPORT_BUDGET_BYTES = 192 * 1024
REPORT_LIMIT_BYTES = 64 * 1024
S3_ERRORS = ["S3.S3Exception", "S3.SdkClientException"]
_REGION = choice_reasons.Value("States.ArrayGetItem(States.StringSplit($$.Execution.Id, ':'), 3)")
_CONSOLE = [
    "https://console.aws.amazon.com/states/home?region=", _REGION,
    "#/v2/executions/details/", choice_reasons.Value("$$.Execution.Id"),
]
_ERROR, _CAUSE = choice_reasons.Value("$.error.Error"), choice_reasons.Value("$.error.Cause")
SNS_SUBJECT_LIMIT = 100


@dataclass
class Scope:
    """The states of one States block (top level, a branch or an iterator)."""

    states: list[Any] = field(default_factory=list)
    tail: list[Any] = field(default_factory=list)
    failure_paths: dict[tuple[str, str], Any] = field(default_factory=dict)
    shares_failures: bool = False  # its steps share one failure path (see `_Builder.shared_failure`)
    shared_failure: Any = None
    alone: bool = False  # a branch's few steps, for which its Parallel state alerts (`_Builder.branch_failure`)
    silenced: list[str] = field(default_factory=list)  # the steps that fail here without alerting

    def add(self, state: Any, *, at_end: bool = False) -> Any:
        (self.tail if at_end else self.states).append(state)
        return state

    def emit(self, start: Any) -> dict[str, Any]:
        return {
            "StartAt": start.state_id,
            "States": {state.state_id: sdk.state_dict(state) for state in [*self.states, *self.tail]},
        }


# The most steps that may fail in a Parallel branch for which the Parallel state alerts (their Fail states
# cost less than an alert state of the branch's own up to about this many).
SILENCED_PER_BRANCH = 10

# Request members that differ per execution or attempt by design: not part of a cache key.
CACHE_EXCLUDED = frozenset({"ProcessingJobName", "TrainingJobName", "TransformJobName", "JobName", "Tags"})
LAMBDA_SERVICE_ERRORS = ("Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                         "Lambda.TooManyRequestsException")


@dataclass(frozen=True)
class _Meetings:
    """How a network's steps meet: what each waits for (`plan.network_waits`), a step others wait for ->
    each of them -> its count of needs, and -> the results of its branch they read (its signal sends them)."""

    waits: dict[str, dict[str, list[str]]]
    waiting: dict[str, dict[str, int]]
    sends: dict[str, list[str]]

    @classmethod
    def of(cls, waits: dict[str, dict[str, list[str]]]) -> _Meetings:
        waiting: dict[str, dict[str, int]] = {}
        for step, sources in waits.items():
            for source in sources:
                waiting.setdefault(source, {})[step] = len(sources)
        return cls(waits, waiting, network_sends(waits))


@dataclass
class Exit:
    """A transition still to be made: `connect` it to the next state, or `close` it."""

    connect: Callable[[Any], None]
    needs_terminal: bool = False


@dataclass
class Block:
    entry: Any
    exits: list[Exit]


def next_exit(state: Any) -> Exit:
    return Exit(state.next)


def link(exits: list[Exit], target: Any) -> None:
    for exit_ in exits:
        exit_.connect(target)


def close(exits: list[Exit], scope: Scope, name: str) -> None:
    """End a scope: task exits end by themselves; choice exits need a Succeed state."""
    open_ends = [e for e in exits if e.needs_terminal]
    if open_ends:
        link(open_ends, scope.add(sdk.Succeed(name)))


def build_definition(
    workflow: Workflow,
    plan: Plan,
    graph: StepGraph,
    requests: dict[str, dict[str, Any]],
    from_children: frozenset[str],
) -> tuple[dict[str, Any], dict[int, dict[str, Any]], dict[int, str]]:
    """The ASL definition of a validated workflow, and of each of its plan's Parts by number with its
    compact JSON (which names it: `naming.part_alias`). `from_children`: the steps whose signals child
    executions send (`history_budget.fitted`). Raises ValueError for infinity or NaN."""
    builder = _Builder(workflow, plan, graph, requests, from_children)
    return builder.build(), builder.parts, builder.part_texts


class _Builder:
    def __init__(
        self,
        workflow: Workflow,
        plan: Plan,
        graph: StepGraph,
        requests: dict[str, dict[str, Any]],
        from_children: frozenset[str],
    ):
        self.workflow = workflow
        self.plan = plan
        self.graph = graph
        self.requests = requests
        self.keys = result_keys(list(workflow.steps))
        self.renderer = Renderer(workflow, self.keys, {name: graph.error_source(name) for name in workflow.steps})
        self.handling = 0  # > 0 while building a catch's handler path, whose state holds `error`
        self.kept: dict[str, ResultSpec] = result_specs(workflow, requests)
        self.lifetimes = lifetimes(workflow, plan, least_bytes(workflow, self.kept, requests))
        self.drops = 0  # states that drop dead results (module `result_lifetimes`)
        self.reads = member_reads(workflow)
        self.from_children = from_children
        self.literal_items = {
            name: list(step.for_each.items)
            for name, step in workflow.steps.items()
            if step.for_each is not None and not isinstance(step.for_each.items, str)
        }
        self.parallel_count = 0
        self.nested_ends = 0  # succeed steps built inside Parallel branches or parts (see `succeed`)
        self.ended: Any = None
        self.top = self._scope(plan.main)
        self.shared_count = 1  # the top level's failure path is "any step", the others' "any step 2", ...
        self.parts: dict[int, dict[str, Any]] = {}
        self.part_texts: dict[int, str] = {}
        reports = sum(1 for step in workflow.steps.values() if step.type == "processing" and report_uri(step))
        self.report_limit = min(REPORT_LIMIT_BYTES, REPORT_BUDGET_BYTES // max(reports, 1))

    # -- the top level -------------------------------------------------

    def build(self) -> dict[str, Any]:
        scope = self.top
        start, exits = self._input(scope)
        check = self._input_check(scope)
        if check is not None:
            link(exits, check.entry)
            exits = check.exits
        if self.plan.main is not None:
            block, _ = self.node(self.plan.main, scope, [], self.lifetimes.top)
            link(exits, block.entry)
            exits = block.exits
        close(exits, scope, "workflow.done")
        comment = " ".join(filter(None, [self.workflow.description, self._parts_note()]))
        return {**({"Comment": comment} if comment else {}), **scope.emit(start)}

    def _parts_note(self) -> str:
        """A split workflow's definition says so (it starts each part by the alias named after the part's
        definition: a change to a part changes it too)."""
        return f"(Runs as {len(self.parts) + 1} state machines.)" if self.parts else ""

    def _input(self, scope: Scope) -> tuple[Any, list[Exit]]:
        """The state document: the execution input over the declared defaults, and literal item lists.

        The literals sit in a Pass state's Result (taken as it is: no escaping, no
        paths); the next state merges the execution's own input over them.
        """
        defaults = {f.name: f.default for f in self.workflow.inputs if f.has_default}
        items = {self.keys[name]: values for name, values in self.literal_items.items()}
        document: dict[str, Any] = {"input.$": "$$.Execution.Input", "steps": {}}
        first = None
        if defaults or items:
            first = scope.add(
                sdk.Pass(
                    "input.defaults",
                    result={"defaults": defaults, "items": items},
                    comment="The spec's input defaults and for_each lists.",
                )
            )
            if defaults:
                document["input.$"] = "States.JsonMerge($.defaults, $$.Execution.Input, false)"
            if items:
                document["items.$"] = "$.items"
        read = scope.add(sdk.Pass("input.read", parameters=document, comment="The execution input, over the defaults."))
        if first is not None:
            first.next(read)
        return first or read, [next_exit(read)]

    def _input_check(self, scope: Scope) -> Block | None:
        """Fail early on a missing required input, then on one outside its `enum`."""
        required = [f.name for f in self.workflow.inputs if not f.has_default]
        limited = [f for f in self.workflow.inputs if f.allowed is not None]
        if not required and not limited:
            return None
        choice = scope.add(sdk.Choice("input.check", comment="Fail early on a missing or not allowed input."))
        if required:
            missing = [sdk.ChoiceRule.IsPresent(variable=f"$.input.{name}", value=False) for name in required]
            fail = sdk.Fail(
                "input.missing",
                error="InputMissing",
                cause="The execution input lacks a required field: " + ", ".join(required),
            )
            rule = missing[0] if len(missing) == 1 else sdk.ChoiceRule.Or(missing)
            choice.add_choice(rule, scope.add(fail, at_end=True))
        for declared in limited:
            allowed = declared.allowed or ()
            fail = sdk.Fail(
                f"input.{declared.name}.not-allowed",
                error="InputNotAllowed",
                cause=f"The input field {declared.name} may only be one of: "
                + ", ".join(json.dumps(value) for value in allowed),
            )
            choice.add_choice(_outside(f"$.input.{declared.name}", allowed), scope.add(fail, at_end=True))
        exit_ = Exit(choice.default_choice, needs_terminal=True)
        return Block(choice, [exit_])

    # -- plan nodes ------------------------------------------------------

    def node(self, node: Node, scope: Scope, available: list[str], keep: Keep = None) -> tuple[Block, list[str]]:
        """Build a plan node; `available` lists the kept results present before it, `keep` those needed after
        it (module `result_lifetimes`; None: all of them)."""
        if isinstance(node, Leaf):
            return self.leaf(self.workflow.steps[node.step], scope, available)
        if isinstance(node, Sequence):
            first: Block | None = None
            exits: list[Exit] = []
            afters = self.lifetimes.after_items(node.items, keep)
            for index, (item, after) in enumerate(zip(node.items, afters, strict=True)):
                block, available = self.node(item, scope, available, after)
                if first is None:
                    first = block
                else:
                    link(exits, block.entry)
                exits = block.exits
                if index < len(node.items) - 1:
                    exits, available = self.drop_dead(scope, exits, available, after)
            assert first is not None
            return Block(first.entry, exits), available
        if isinstance(node, Part):
            return self.part(node, scope, available, keep)
        ends_before = self.nested_ends
        block, after = (self.network if isinstance(node, Network) else self.parallel)(node, scope, available, keep)
        if scope is self.top and self.nested_ends > ends_before:  # a succeed step inside ended it
            ended = sdk.Catch(error_equals=[ENDED_ERROR], next_step=self.workflow_ended(), result_path=None)
            block.entry.add_catch(ended)
        return block, after

    def drop_dead(self, scope: Scope, exits: list[Exit], held: list[str], keep: Keep) -> tuple[list[Exit], list[str]]:
        """Where the flow goes on with `exits`: drop the kept results `held` that are not needed after
        (`keep`), once they are worth a state (module `result_lifetimes`). The exits and the results held."""
        live = self.lifetimes.dropped(held, keep) if exits else None
        if live is None:
            return exits, held
        state = self.drop_state(scope, held, live)
        link(exits, state)
        return [next_exit(state)], live

    def drop_state(self, scope: Scope, held: list[str], live: list[str]) -> Any:
        """A Pass state that keeps only the `live` results of those `held`."""
        self.drops += 1
        dead = [step for step in held if step not in live]
        names = ", ".join(dead[:6]) + (", ..." if len(dead) > 6 else "")
        return scope.add(
            sdk.Pass(
                f"steps.drop-{self.drops}",
                parameters={f"{self.keys[step]}.$": f"$.steps.{self.keys[step]}" for step in live},
                result_path="$.steps",
                comment=f"Drops the results no later step reads ({names}): the state holds 256 KiB.",
            )
        )

    def branch(
        self,
        node: Node,
        scope: Scope,
        available: list[str],
        end: Keep,
        build: Callable[[list[str]], tuple[Block, list[str]]],
    ) -> tuple[Block, list[str]]:
        """A branch of a Parallel state, built by `build` from the results it holds at its start: it drops
        at its start those it does not read (`end`: those its Parallel state gathers from it). Its block
        and the results it holds before its end (see `end_branches`)."""
        live = self.lifetimes.dropped(available, None if end is None else end | self.lifetimes.reads(node))
        dropped = None if live is None else self.drop_state(scope, available, live)
        block, held = build(available if live is None else live)
        if dropped is None:
            return block, held
        dropped.next(block.entry)
        return Block(dropped, block.exits), held

    def branch_states(
        self,
        name: str,
        members: tuple[Node, ...],
        available: list[str],
        ends: list[Keep],
        build: Callable[[int, Scope], Callable[[list[str]], tuple[Block, list[str]]]],
    ) -> tuple[list[Scope], list[sdk.Emit], list[list[str]]]:
        """The branches of the Parallel state `name`, one per member (`build(index, scope)` builds a member
        from the results it holds at its start), each dropping what the state does not gather from it
        (`ends`: what it does) at its end, together when worth it (module `result_lifetimes`). Their
        scopes, emitters and the results each holds at its end."""
        scopes = [self._scope(member, branch=True) for member in members]
        blocks, helds = [], []
        for index, (member, scope, end) in enumerate(zip(members, scopes, ends, strict=True)):
            block, held = self.branch(member, scope, available, end, build(index, scope))
            blocks.append(block)
            helds.append(held)
        emitters = []
        kept = self.lifetimes.ends_dropped(helds, ends)
        for index, (scope, block, live) in enumerate(zip(scopes, blocks, kept, strict=True)):
            if live is not None and block.exits:
                state = self.drop_state(scope, helds[index], live)
                link(block.exits, state)
                block, helds[index] = Block(block.entry, [next_exit(state)]), live
            close(block.exits, scope, aux_state(name, f"{index + 1}.done"))
            emitters.append(lambda s=scope, b=block: s.emit(b.entry))
        return scopes, emitters, helds

    def part(
        self, node: Part, scope: Scope, available: list[str], keep: Keep = None
    ) -> tuple[Block, list[str]]:
        """A Part: its own state machine, given the state document and returning it (module `split`)."""
        child = self._scope(node.node)
        ends_before = self.nested_ends
        block, after = self.node(node.node, child, available, keep)
        close(block.exits, child, aux_state(part_state(node.number), "done"))
        ends = self.nested_ends > ends_before
        task = self.part_task(node.number, leaves(node.node), child, block.entry, scope, ends=ends)
        return Block(task, [next_exit(task)]), after

    def part_task(
        self, number: int, steps: list[str], child: Scope, start: Any, scope: Scope, *, ends: bool = False
    ) -> Any:
        """Make part `number` of the `child` states (from `start`), and the task in `scope` that runs it
        (`ends`: a succeed step in the part may end the workflow)."""
        names = ", ".join(steps[:6]) + (", ..." if len(steps) > 6 else "")
        machine = part_machine(self.workflow.name, number)
        comment = f"Part {number} of workflow {self.workflow.name}: runs {names}."
        self.parts[number] = from_parent_execution({"Comment": comment, **child.emit(start)})
        self.part_texts[number] = compact(self.parts[number])
        alias = part_alias(self.part_texts[number])
        document = {"input.$": "$.input", "steps.$": "$.steps"}
        selector = {"input.$": "$.Output.input", "steps.$": "$.Output.steps"}
        if self.literal_items:
            document["items.$"] = "$.items"
            selector["items.$"] = "$.Output.items"
        parameters = {
            "StateMachineArn.$": str(arn_in_own_account("states", f"stateMachine:{machine}:{alias}")),
            "Name.$": "States.UUID()",
            "Input": {
                **document,
                PARENT_EXECUTION: {"Name.$": "$$.Execution.Name", "StartTime.$": "$$.Execution.StartTime"},
                "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
            },
        }
        state_id = part_state(number)
        task = scope.add(
            sdk.Task(
                state_id,
                resource=PART_RESOURCE,
                parameters=parameters,
                result_selector=selector,
                result_path="$",
                comment=f"Runs {names} in state machine {machine} (its alias {alias}: this definition of it).",
            )
        )
        task.add_retry(sdk.Retry(error_equals=PART_START_ERRORS, interval_seconds=5, max_attempts=4, backoff_rate=2))
        failed = self.part_failed(state_id, scope, ends=ends)
        task.add_catch(sdk.Catch(error_equals=[CATCH_ALL], next_step=failed, result_path="$.error"))
        return task

    def part_failed(self, state_id: str, scope: Scope, *, ends: bool = False) -> Any:
        """Fail as the part did, with its failed step's error and cause: a part that fails fails the task
        with States.TaskFailed, and a cause that is its DescribeExecution output, `Error` and `Cause`
        included (as AWS's samples and LocalStack show). Anything else fails naming the part. A part
        that a succeed step ended (`ends`) ends the workflow at the top level."""
        generic = scope.add(
            sdk.Fail(
                aux_state(state_id, "failed"),
                error=f"{state_id}.Failed",
                cause_path=f"States.Format('{state_id} failed. {{}}: {{}}', $.error.Error, $.error.Cause)",
            ),
            at_end=True,
        )
        as_step = scope.add(
            sdk.Fail(aux_state(state_id, "failed-as-step"), error_path="$.part.Error", cause_path="$.part.Cause"),
            at_end=True,
        )
        read = sdk.Pass(
            aux_state(state_id, "read-failure"),
            parameters={"error.$": "$.error", "part.$": "States.StringToJson($.error.Cause)"},
        )
        which = sdk.Choice(aux_state(state_id, "step-failed"))
        if ends and scope is self.top:
            ended = sdk.ChoiceRule.StringEquals(variable="$.part.Error", value=ENDED_ERROR)
            which.add_choice(ended, self.workflow_ended())
        which.add_choice(sdk.ChoiceRule.IsPresent(variable="$.part.Error", value=True), as_step)
        which.default_choice(generic)
        read.next(which)
        failed = sdk.Choice(aux_state(state_id, "failure"))
        failed.add_choice(sdk.ChoiceRule.StringEquals(variable="$.error.Error", value="States.TaskFailed"), read)
        failed.default_choice(generic)
        for state in (failed, read, which):
            scope.add(state, at_end=True)
        return failed

    def parallel(self, node: Parallel, scope: Scope, available: list[str], keep: Keep) -> tuple[Block, list[str]]:
        """A Parallel state of the node's branches; its ResultSelector takes the kept results needed after
        it (`keep`; None: all)."""
        self.parallel_count += 1
        name = f"parallel.{self.parallel_count}"
        ends = [self.lifetimes.branch_end(keep, leaves(b), i == 0, available) for i, b in enumerate(node.branches)]
        branches = node.branches
        scopes, emitters, helds = self.branch_states(
            name, branches, available, ends, lambda i, into: partial(self.node, branches[i], into, keep=ends[i])
        )
        produced = [(index, step) for index, held in enumerate(helds) for step in held if step not in available]
        silenced = [step for branch_scope in scopes for step in branch_scope.silenced]
        available, produced = _kept(available, produced, keep)
        selector = self._branches_selector(available, produced)
        steps_inside = leaves(node)
        names = ", ".join(steps_inside[:6]) + (", ..." if len(steps_inside) > 6 else "")
        state = scope.add(sdk.Parallel(name, emitters, result_selector=selector, comment=f"Runs {names}."))
        self.branch_failure(state, silenced, scope)
        return Block(state, [next_exit(state)]), [*available, *(s for _, s in produced)]

    def network(self, node: Network, scope: Scope, available: list[str], keep: Keep) -> tuple[Block, list[str]]:
        """A Parallel state with a branch per chain of steps; a step whose needs lie in other chains waits
        for exactly them (module `markers`). `keep`: as for `parallel`."""
        self.parallel_count += 1
        name = f"parallel.{self.parallel_count}"
        steps_of = [leaves(member) for member in node.members]
        owner = {step: index for index, steps in enumerate(steps_of) for step in steps}
        meetings = _Meetings.of(network_waits(node, steps_of, self.lifetimes.chain_reads))
        firsts = network_firsts(node)
        ends = [self.lifetimes.branch_end(keep, steps, i in firsts, available) for i, steps in enumerate(steps_of)]

        def build(index: int, branch: Scope) -> Callable[[list[str]], tuple[Block, list[str]]]:
            keeps = self.lifetimes.chain_keeps(steps_of[index], ends[index], meetings.sends)
            return partial(self.chain, steps_of[index], branch, keeps=keeps, meetings=meetings)

        member_scopes, emitters, helds = self.branch_states(name, node.members, available, ends, build)
        produced = [
            (index, step)
            for index, held in enumerate(helds)
            for step in held
            if step not in available and owner.get(step) == index
        ]
        inside = leaves(node)
        names = ", ".join(inside[:6]) + (", ..." if len(inside) > 6 else "")
        comment = f"Runs {names}, each when its own needs are done."
        silenced = [member.silenced for member in member_scopes]
        available, produced = _kept(available, produced, keep)
        waiting = list(meetings.waits)
        if node.groups:
            emitters, produced = self._network_parts(
                node, emitters, produced, available, steps_of, silenced, meetings.waits
            )
            comment = f"Runs {names} in {len(node.groups)} parts, each step when its own needs are done."
            silenced, waiting = [], []  # each part clears its own steps' markers
        selector = self._branches_selector(available, produced)
        state = scope.add(sdk.Parallel(name, emitters, result_selector=selector, comment=comment))
        self.branch_failure(state, [step for steps in silenced for step in steps], scope)
        exit_ = self.clear_markers(name, waiting, state, scope)
        return Block(state, [exit_]), [*available, *(s for _, s in produced)]

    def clear_markers(self, name: str, waiting: list[str], after: Any, scope: Scope) -> Exit:
        """Once `after` succeeded, `<name>.markers-cleared[-n]` delete the markers of the `waiting` steps
        (a failure to delete goes on); the exit after them."""
        cleared = marker_states.clear_states(name, waiting, markers_table(self.workflow.name))
        if not cleared:
            return next_exit(after)
        last = after
        for clear in cleared:
            scope.add(clear)
            last.next(clear)
            last = clear
            clear.add_catch(sdk.Catch(error_equals=[CATCH_ALL], next_step=None, result_path=None))
        return Exit(lambda target: _go_on(cleared, target), needs_terminal=True)

    def chain(
        self, steps: list[str], scope: Scope, held: list[str], keeps: list[Keep], meetings: _Meetings
    ) -> tuple[Block, list[str]]:
        """A network's chain of steps, from the results `held`: each step waits for its needs in other chains
        (and gets the results it reads of theirs), runs, and signals the steps that wait for it; `keeps`:
        what is needed before each step and after the last (module `result_lifetimes`)."""
        table = markers_table(self.workflow.name)
        waits, waiting, sends = meetings.waits, meetings.waiting, meetings.sends
        entry, exits, have = None, [], held
        for position, step in enumerate(steps):
            blocks = []
            if step in waits:
                received = [read for reads in waits[step].values() for read in reads]
                before = keeps[position]
                if received and before is not None:  # its got-needs state keeps only what is needed
                    have = [result for result in have if result in before]
                blocks.append(self.marker_wait(step, waits[step], scope, have))
                have = [*have, *received]
            block, have = self.node(Leaf(step), scope, have)
            blocks.append(block)
            for block in blocks:
                link(exits, block.entry)
                entry, exits = entry or block.entry, block.exits
            if step in waiting:
                sent = [self.keys[read] for read in sends[step]]
                signal = marker_states.signal_states(
                    step, table, waiting[step], sent, from_children=step in self.from_children
                )
                for state in signal.states:
                    scope.add(state)
                for state in signal.catchable:
                    state.add_catch(self._marker_catch(step, scope))
                link(exits, signal.states[0])
                exits = [next_exit(signal.last)]
                if signal.choice is not None:
                    exits.append(Exit(signal.choice.default_choice, needs_terminal=True))
            if position < len(steps) - 1:
                exits, have = self.drop_dead(scope, exits, have, keeps[position + 1])
        return Block(entry, exits), have

    def _network_parts(
        self,
        node: Network,
        emitters: list[sdk.Emit],
        produced: list[tuple[int, str]],
        available: list[str],
        steps_of: list[list[str]],
        silenced: list[list[str]],
        waits: dict[str, dict[str, list[str]]],
    ) -> tuple[list[sdk.Emit], list[tuple[int, str]]]:
        """A split network: each group of its members runs as a part, a Parallel state of their branches
        (markers are keyed by the workflow's execution, so they wait for each other across parts) that
        then clears the markers of its steps that wait (`waits`); the branches of the network's own
        Parallel state run the parts. Its emitters and what each produces."""
        part_emitters: list[sdk.Emit] = []
        part_produced: list[tuple[int, str]] = []
        for position, (group, number) in enumerate(zip(node.groups, node.numbers, strict=True)):
            self.parallel_count += 1
            inner_produced = [(group.index(i), step) for i, step in produced if i in group]
            steps = [step for i in group for step in steps_of[i]]
            child = Scope()
            inner = child.add(
                sdk.Parallel(
                    f"parallel.{self.parallel_count}",
                    [emitters[i] for i in group],
                    result_selector=self._branches_selector(available, inner_produced),
                    comment=f"Runs {', '.join(steps[:6])}{', ...' if len(steps) > 6 else ''}, each when its own "
                    "needs are done.",
                )
            )
            self.branch_failure(inner, [step for i in group for step in silenced[i]], child)
            cleared = self.clear_markers(inner.state_id, [step for step in steps if step in waits], inner, child)
            close([cleared], child, aux_state(part_state(number), "done"))
            branch = Scope()
            task = self.part_task(number, steps, child, inner, branch)
            part_emitters.append(lambda s=branch, t=task: s.emit(t))
            part_produced += [(position, step) for _, step in inner_produced]
        return part_emitters, part_produced

    def _branches_selector(self, available: list[str], produced: list[tuple[int, str]]) -> dict[str, Any]:
        """A Parallel state's ResultSelector: the state document, each kept result from the branch (index)
        that produced it, the others from the first."""
        steps = {f"{self.keys[s]}.$": f"$[0].steps.{self.keys[s]}" for s in available}
        steps.update({f"{self.keys[s]}.$": f"$[{i}].steps.{self.keys[s]}" for i, s in produced})
        selector: dict[str, Any] = {"input.$": "$[0].input", "steps": steps}
        if self.literal_items:
            selector["items.$"] = "$[0].items"
        if self.handling:
            selector["error.$"] = "$[0].error"
        return selector

    def marker_wait(self, step: str, sources: dict[str, list[str]], scope: Scope, have: list[str]) -> Block:
        """Wait until the `sources` (-> the steps whose results come with each) have signalled; put the
        results they send into `$.steps`."""
        table = markers_table(self.workflow.name)
        received = [self.keys[read] for reads in sources.values() for read in reads]
        wait = scope.add(marker_states.wait_state(step, len(sources), table, received))
        failed = self._marker_catch(step, scope)
        if not received:
            already = sdk.Catch(error_equals=ALREADY_DONE, next_step=None, result_path=None)
            wait.add_catch(already)
            wait.add_catch(failed)
            return Block(wait, [next_exit(wait), Exit(lambda t, c=already: setattr(c, "next_step", t))])
        read = scope.add(marker_states.read_state(step, table, received))
        kept = {self.keys[s]: f"$.steps.{self.keys[s]}" for s in have}
        got = scope.add(marker_states.got_state(step, kept, received))
        wait.add_catch(sdk.Catch(error_equals=ALREADY_DONE, next_step=read, result_path=None))
        wait.add_catch(failed)
        read.add_catch(failed)
        wait.next(got)
        read.next(got)
        return Block(wait, [next_exit(got)])

    def _marker_catch(self, step: str, scope: Scope) -> Any:
        failed = self.failure_path(step, scope, None)
        return sdk.Catch(error_equals=[CATCH_ALL], next_step=failed, result_path="$.error")

    def leaf(self, step: Step, scope: Scope, available: list[str]) -> tuple[Block, list[str]]:
        if step.type == "choice":
            return self.choice(step, scope, available), available
        if step.type == "wait":
            return self.wait(step, scope), available
        if step.type == "succeed":
            return Block(self.succeed(step, scope), []), available
        if step.type == "fail":
            cause = step.config.get("cause") or f"The workflow reached {step.name}."
            entry = self.failure_path(
                step.name, scope, cause, error=step.config.get("error", "WorkflowFailed"), fail_name=step.name
            )
            return Block(entry, []), available
        return self.task(step, scope, available)

    def succeed(self, step: Step, scope: Scope) -> Any:
        """A `succeed` step ends the workflow. At the top level a Succeed state does; inside a Parallel
        branch or a part, where a Succeed state would end only the branch (and steps after the Parallel
        state would run, those needing the step whose catch led here too), it fails the branch with
        ENDED_ERROR, which no alert catches, and the top level's Parallel state or part task that holds
        it ends the workflow with `workflow.ended`, a Succeed state."""
        if scope is self.top:
            return scope.add(sdk.Succeed(step.name, comment=step.comment))
        self.nested_ends += 1
        cause = f"{step.name} ends the workflow: it succeeded"
        return scope.add(sdk.Fail(step.name, error=ENDED_ERROR, cause=cause, comment=step.comment))

    def workflow_ended(self) -> Any:
        """The Succeed state a `succeed` step inside a Parallel branch or a part leads to (see `succeed`)."""
        if self.ended is None:
            self.ended = self.top.add(sdk.Succeed(aux_state("workflow", "ended")), at_end=True)
        return self.ended

    # -- tasks ---------------------------------------------------------

    def task(self, step: Step, scope: Scope, available: list[str]) -> tuple[Block, list[str]]:
        kept = step.name in self.kept
        if step.for_each is None:
            entry, last = self.task_unit(step, scope, in_map=False)
        else:
            entry = last = self.map(step, scope)
        exits = [next_exit(last)]
        job = entry
        for catch in step.catch:
            catcher = sdk.Catch(error_equals=list(catch.errors), next_step=None, result_path="$.error")
            entry.add_catch(catcher)
            if catch.next == "fail":
                catcher.next_step = self.failure_path(step.name, scope, None)
                continue
            if catch.next == "succeed":
                exits.append(self.skipped(step, scope, lambda t, c=catcher: setattr(c, "next_step", t), True))
                continue
            self.handling += 1
            handler, _ = self.node(self.plan.regions[catch.next], scope, available)
            self.handling -= 1
            catcher.next_step = handler.entry
            if not handler.exits:  # the handler path ends the execution itself (a succeed or fail step)
                continue
            if catch.then == "fail":  # the handler path done, the step's failure ends the execution
                link(handler.exits, self.failure_path(step.name, scope, None))
            elif catch.then == "fallback" and step.name in self.kept:
                stand_in = scope.add(self.stand_in(step, self.workflow.steps[catch.next]))
                link(handler.exits, stand_in)
                exits.append(next_exit(stand_in))
            else:  # `continue`, or a fallback for a result nothing reads: the flow goes on after the handler
                open_end = any(e.needs_terminal for e in handler.exits)
                exits.append(self.skipped(step, scope, lambda t, h=handler: link(h.exits, t), open_end))
        if not any(CATCH_ALL in catch.errors for catch in step.catch):  # ASL: one catch-all, the last
            entry.add_catch(
                sdk.Catch(
                    error_equals=[CATCH_ALL],
                    next_step=self.failure_path(step.name, scope, None),
                    result_path="$.error",
                )
            )
        if step.cache is not None and step.for_each is None:
            entry, cached = self.cache_lookup(step, scope, job, last)
            if cached is not None:
                exits.append(next_exit(cached))
        if self.workflow.type == "standard":
            gate, resumed = self.resume_gate(step, scope, entry)
            entry, exits = gate, [*exits, next_exit(resumed)]
        return Block(entry, exits), [*available, step.name] if kept else available

    def cache_lookup(self, step: Step, scope: Scope, job: Any, last: Any) -> tuple[Any, Any]:
        """Before a cached step's job: ask the cache lookup function for a completed job with an equal
        request (docs/design.md, Caching); on a hit, a Pass puts its result where the job's goes and the
        job is not started. (entry, the hit's Pass when the flow goes on from it, else None: a step
        with a report reads it after the hit too.)"""
        target = self.renderer.result_path(step.name)
        request = {k: v for k, v in job.fields['parameters'].items() if k.removesuffix(".$") not in CACHE_EXCLUDED}
        payload: dict[str, Any] = {
            "request": request,
            "kind": step.type,
            "prefix": job_prefix(self.workflow.name, step.name),
            "expire_after": step.cache.expire_after if step.cache else None,
        }
        lookup = scope.add(
            sdk.Task(
                aux_state(step.name, "cache"),
                resource="arn:aws:states:::lambda:invoke",
                parameters={"FunctionName": resource_name(self.workflow.name, CACHE_LOOKUP), "Payload": payload},
                result_selector={"hit.$": "$.Payload.hit", "key.$": "$.Payload.key", "result.$": "$.Payload.result"},
                result_path=target,
                timeout_seconds=120,
            )
        )
        lookup.add_retry(sdk.Retry(error_equals=list(LAMBDA_SERVICE_ERRORS), interval_seconds=2, max_attempts=3))
        failed = self.failure_path(step.name, scope, None)
        lookup.add_catch(sdk.Catch(error_equals=[CATCH_ALL], next_step=failed, result_path="$.error"))
        _tag_with_cache_key(job, f"{target}.key")
        hit = scope.add(sdk.Choice(aux_state(step.name, "cache-hit")))
        spec = self.kept.get(step.name)
        if spec is None:
            cached = sdk.Pass(aux_state(step.name, "cached"), result=None, result_path=target)
        elif spec.selector is not None:
            cached = sdk.Pass(
                aux_state(step.name, "cached"), input_path=f"{target}.result", parameters=spec.selector,
                result_path=target,
            )
        else:
            cached = sdk.Pass(aux_state(step.name, "cached"), input_path=f"{target}.result", result_path=target)
        hit.add_choice(sdk.ChoiceRule.BooleanEquals(variable=f"{target}.hit", value=True), scope.add(cached))
        hit.default_choice(job)
        lookup.next(hit)
        if last is not job:  # the report is read after a hit as after the job
            cached.next(job.next_step)
            return lookup, None
        return lookup, cached

    def resume_gate(self, step: Step, scope: Scope, task: Any) -> tuple[Any, Any]:
        """A Choice before the step: when the execution input carries its recorded result
        (`sfn-build resume`), a Pass puts it in place and the step's job is not started again.
        One extra transition per step in every execution; a resumed step costs two."""
        recorded = f"$.input.{RESUME_INPUT}.{self.renderer.result_path(step.name).removeprefix('$.steps.')}"
        gate = scope.add(sdk.Choice(aux_state(step.name, "resume")))
        if step.name in self.kept:
            resumed = sdk.Pass(
                aux_state(step.name, "resumed"), input_path=recorded, result_path=self.renderer.result_path(step.name)
            )
        else:
            resumed = sdk.Pass(aux_state(step.name, "resumed"))
        gate.add_choice(sdk.ChoiceRule.IsPresent(variable=recorded, value=True), scope.add(resumed))
        gate.default_choice(task)
        return gate, resumed

    def skipped(self, step: Step, scope: Scope, connect: Callable[[Any], None], open_end: bool) -> Exit:
        """The flow going on without a failed step: its kept result becomes null, so that a Parallel
        state can still gather it and a choice can test `is_present`."""
        if step.name not in self.kept:
            return Exit(connect, needs_terminal=open_end)
        state = scope.add(
            sdk.Pass(
                aux_state(step.name, "skipped"),
                result=None,
                result_path=self.renderer.result_path(step.name),
                comment=f"{step.name} failed and was caught: the flow goes on without its result.",
            )
        )
        connect(state)
        return next_exit(state)

    def stand_in(self, failed: Step, fallback: Step) -> Any:
        """A Pass state that puts the fallback's result where the failed step's is read."""
        name = aux_state(failed.name, "fallback")
        comment = f"{fallback.name}'s result stands in for {failed.name}'s."
        target = self.renderer.result_path(failed.name)
        if fallback.type == failed.type:
            source = self.renderer.result_path(fallback.name)
            return sdk.Pass(name, input_path=source, result_path=target, comment=comment)
        members: dict[str, Any] = {}  # a lambda's payload: each member read of the failed step, from it
        for read in sorted(self.reads.get(failed.name, []), key=len):
            ref = Reference("steps", (failed.name, *read), "")
            if not self.renderer.path(ref).startswith(target + "."):
                continue  # computed, not stored (a model's name)
            where = self.renderer.path(ref)[len(target) + 1 :].split(".")
            node = members
            for part in where[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    break
            else:
                if where[-1] not in node:
                    source = self.renderer.path(Reference("steps", (fallback.name, *read), ""))
                    node[f"{where[-1]}.$"] = source
        return sdk.Pass(name, parameters=members, result_path=target, comment=comment)

    def task_unit(self, step: Step, scope: Scope, in_map: bool) -> tuple[Any, Any]:
        """The task state (and the state reading its report), first and last."""
        kind = KINDS[step.type]
        shape = input_shape(*kind.api) if kind.api else None
        parameters = self.renderer.render(self.requests[step.name], shape, kind.json_members, reader=step.name)
        spec = self.kept.get(step.name)
        if kind.polling is not None:
            task, last = self.polling_unit(step, scope, parameters, spec, in_map)
            return task, self.caught_in_map(step, scope, [task, last]) if in_map else last
        options: dict[str, Any] = {"result_path": None}
        if spec is not None:
            options["result_path"] = self.renderer.result_path(step.name)
            if spec.selector is not None:
                options["result_selector"] = spec.selector
        task = scope.add(
            sdk.Task(
                aux_state(step.name, "each") if in_map else step.name,
                resource=kind.resource,
                parameters=parameters,
                timeout_seconds=step.timeout,
                comment=step.comment if not in_map else None,
                **options,
            )
        )
        for policy in step.retry:
            task.add_retry(sdk.Retry(**_retry_fields(policy)))
        last = self.report(step, scope, task) if report_uri(step) else task
        return task, self.caught_in_map(step, scope, [task, last]) if in_map else last

    def caught_in_map(self, step: Step, scope: Scope, states: list[Any]) -> Any:
        """An item's states inside a Map: each passes its failure on (rethrow), and the last one outputs the
        item's kept result, or nothing (`{}`) when none is kept: a Map gathers every item's output before
        its ResultPath applies (a Distributed Map even when it is null), and fails the execution with
        States.DataLimitExceeded, which no catch handles, when they pass 256 KiB. Returns the last."""
        last = states[-1]
        last.fields["output_path"] = self.renderer.result_path(step.name) if step.name in self.kept else None
        for state in dict.fromkeys(states):
            state.add_catch(
                sdk.Catch(error_equals=["States.ALL"], result_path="$.error", next_step=self.rethrow(step.name, scope))
            )
        return last

    def polling_unit(
        self, step: Step, scope: Scope, parameters: dict[str, Any], spec: ResultSpec | None, in_map: bool
    ) -> tuple[Any, Any]:
        """A step that polls (module `poll_states`): its loop in a one-branch Parallel named after the step,
        whose kept result is the branch's (a Pass takes it out of the Parallel's list when all of it is kept)."""
        kind = KINDS[step.type]

        def render(resource: str | None, data: dict[str, Any]) -> dict[str, Any]:
            shape = input_shape(*kind.calls[resource]) if resource is not None else None
            return self.renderer.render(data, shape, frozenset(), reader=step.name)

        branch = Scope()
        states = poll_states(step, kind, self.workflow, parameters, spec, render)
        for state in states:
            branch.add(state)
        options: dict[str, Any] = {"result_path": None}
        target = self.renderer.result_path(step.name)
        if spec is not None:
            options["result_path"] = target
            if spec.selector is not None:
                options["result_selector"] = _from_first_branch(spec.selector)
        noun = kind.polling.noun  # type: ignore[union-attr]
        parallel = scope.add(
            sdk.Parallel(
                aux_state(step.name, "each") if in_map else step.name,
                [lambda: branch.emit(states[0])],
                comment=step.comment or f"Runs the {noun} of {step.name} and waits for it to end.",
                **options,
            )
        )
        for policy in step.retry:
            parallel.add_retry(sdk.Retry(**_retry_fields(policy)))
        if spec is None or spec.selector is not None:
            return parallel, parallel
        unwrap = scope.add(sdk.Pass(aux_state(step.name, "result"), input_path=f"{target}[0]", result_path=target))
        parallel.next(unwrap)
        return parallel, unwrap

    def report(self, step: Step, scope: Scope, task: Any) -> Any:
        """After the task: how large its report is, then (when it fits the state) its content."""
        uri = report_uri(step)
        assert uri is not None
        bucket, _, key = uri[len("s3://") :].partition("/")
        location = self.renderer.render({"Bucket": bucket, "Key": key})
        stored = f"{self.renderer.result_path(step.name)}.report"

        def s3_task(role: str, resource: str, selector: dict[str, str], timeout: int, comment: str) -> Any:
            state = sdk.Task(
                aux_state(step.name, role),
                resource=resource,
                parameters=location,
                result_selector=selector,
                result_path=stored,
                timeout_seconds=timeout,
                comment=comment,
            )
            state.add_retry(sdk.Retry(error_equals=S3_ERRORS, interval_seconds=5, max_attempts=3, backoff_rate=2.0))
            return scope.add(state)

        size = s3_task(
            "report-size",
            REPORT_SIZE_RESOURCE,
            {"bytes.$": "$.ContentLength"},
            60,
            f"How large {step.name}'s report is: the state holds 256 KiB at most.",
        )
        check = scope.add(sdk.Choice(aux_state(step.name, "report-check")))
        report = step.config["report"]
        reason = (
            f"Its report ({report['file']} in output {report['output']}) is larger than "
            f"{self.report_limit // 1024} KiB, the most sfn-build reads into the state of a workflow."
        )
        too_large = sdk.ChoiceRule.NumericGreaterThan(variable=f"{stored}.bytes", value=self.report_limit)
        check.add_choice(too_large, self.failure_path(step.name, scope, reason, label="report-too-large"))
        reader = s3_task(
            "report",
            REPORT_RESOURCE,
            {"content.$": "States.StringToJson($.Body)"},
            300,
            f"Reads {step.name}'s report so that later steps can test it.",
        )
        task.next(size)
        size.next(check)
        check.default_choice(reader)
        failed = sdk.Catch(
            error_equals=[CATCH_ALL], result_path="$.error", next_step=self.failure_path(step.name, scope, None)
        )
        for reading in (size, reader):
            reading.add_catch(failed)
        return reader

    def map(self, step: Step, scope: Scope) -> Any:
        assert step.for_each is not None
        iterator = Scope()
        first, _ = self.task_unit(step, iterator, in_map=True)
        items = step.for_each.items
        fields: dict[str, Any] = {}  # in the order the SDK writes them
        if step.for_each.source is not None:
            fields["distributed"] = self.item_reader(step)
        elif isinstance(items, str):
            ref = parse_template(items).single_reference
            assert ref is not None
            fields["items_path"] = self.renderer.path(ref)
        else:
            fields["items_path"] = f"$.items.{self.keys[step.name]}"
        if step.for_each.distributed and step.for_each.source is None:  # over the list in the state
            fields["distributed"] = self.map_run_fields(step)
        document = self.item_document(step)
        in_children = step.for_each.distributed  # each item a child execution: it reads the workflow's from its input
        if in_children:
            document[PARENT_EXECUTION] = parent_selector()

        def emit() -> dict[str, Any]:
            states = iterator.emit(first)
            return from_parent_execution(states, child_of_map=True) if in_children else states

        options: dict[str, Any] = {"result_path": None}
        if step.name in self.kept:
            options["result_path"] = self.renderer.result_path(step.name)
        if step.for_each.max_concurrency is not None:
            options["max_concurrency"] = step.for_each.max_concurrency
        state = sdk.Map(
            step.name,
            emit,
            **fields,
            parameters=document,
            comment=step.comment,
            **options,
        )
        return scope.add(state)

    def item_reader(self, step: Step) -> dict[str, Any]:
        """A Distributed Map's own fields over items in S3: where its items are read, and its map run's
        (`map_run_fields`)."""
        assert step.for_each is not None and step.for_each.source is not None
        source = step.for_each.source
        if source.format == "objects":
            reader: dict[str, Any] = {
                "Resource": "arn:aws:states:::s3:listObjectsV2",
                "Parameters": self.renderer.render({"Bucket": source.bucket, "Prefix": source.key}),
            }
        else:
            config: dict[str, Any] = {"InputType": (source.format or "json").upper()}
            if source.format == "csv":
                config["CSVHeaderLocation"] = "FIRST_ROW"
            reader = {
                "Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": config,
                "Parameters": self.renderer.render({"Bucket": source.bucket, "Key": source.key}),
            }
        return {"ItemReader": reader, **self.map_run_fields(step)}

    def map_run_fields(self, step: Step) -> dict[str, Any]:
        """A Distributed Map's fields whatever its items: how many items may fail, and where the items'
        results are written (they are then not brought into the state: ResultPath null)."""
        assert step.for_each is not None
        fields: dict[str, Any] = {}
        if step.for_each.tolerated_failure_percentage is not None:
            fields["ToleratedFailurePercentage"] = float(step.for_each.tolerated_failure_percentage)
        if step.for_each.results is not None:
            bucket, _, prefix = step.for_each.results[len("s3://") :].partition("/")
            fields["ResultWriter"] = {
                "Resource": "arn:aws:states:::s3:putObject",
                "Parameters": self.renderer.render({"Bucket": bucket, "Prefix": prefix}),
            }
        return fields

    def item_document(self, step: Step) -> dict[str, Any]:
        """Each item's state: the item, and only the inputs and results the step reads (a list of
        items taken from the input is not copied into every item)."""
        refs = list(step_references(step, with_items=False))
        inputs = dict.fromkeys(str(ref.parts[0]) for ref in refs if ref.namespace == "input")
        steps = dict.fromkeys(self.keys[str(ref.parts[0])] for ref in refs if ref.namespace == "steps")
        document: dict[str, Any] = {
            "input": {f"{name}.$": f"$.input.{name}" for name in inputs},
            "steps": {f"{key}.$": f"$.steps.{key}" for key in steps},
            "item.$": "$$.Map.Item.Value",
        }
        if self.handling and any(ref.namespace == "error" and ref.parts != ("step",) for ref in refs):
            document["error.$"] = "$.error"
        return document

    def rethrow(self, step: str, scope: Scope) -> Any:
        """A Fail that passes a caught error on unchanged out of a Map iteration.

        The Map state then catches it once, so a failing fan-out alerts once.
        """
        key = (step, "rethrow")
        if key not in scope.failure_paths:
            scope.failure_paths[key] = scope.add(
                sdk.Fail(aux_state(step, "rethrow"), error_path="$.error.Error", cause_path="$.error.Cause"),
                at_end=True,
            )
        return scope.failure_paths[key]

    # -- failure paths -----------------------------------------------------

    def failure_path(
        self,
        step: str,
        scope: Scope,
        reason: str | choice_reasons.Reason | None,
        *,
        label: str = "failed",
        error: str | None = None,
        fail_name: str | None = None,
    ) -> Any:
        """Publish one alert (when there is a topic), then fail naming the step.

        `reason` None means a caught error: its name and cause are in `$.error`, and the step's
        `<step>.failed` Pass names the step for the failure path its scope shares. A list holds
        values read when the step fails (see choice_reasons). A step of a branch with few that may
        fail (`Scope.alone`) fails without alerting: the Parallel state alerts for it (`branch_failure`).
        """
        key = (step, label)
        if key in scope.failure_paths:
            return scope.failure_paths[key]
        subject_fits = len("".join(_subject(self.workflow.name, step))) <= SNS_SUBJECT_LIMIT
        if reason is None and error is None and fail_name is None and scope.shares_failures and subject_fits:
            named = scope.add(sdk.Pass(aux_state(step, label), result=step, result_path=FAILED_STEP), at_end=True)
            named.next(self.shared_failure(scope))
            scope.failure_paths[key] = named
            return named
        # in a branch with few steps that may fail: every way the step fails (a caught error, a reason) fails the
        # branch with `<step>.Failed` without alerting, and the Parallel state alerts once (`branch_failure`)
        alone = error is None and fail_name is None and scope.alone and subject_fits
        fail_id = fail_name or aux_state(step, label)
        if reason is None:
            fail = sdk.Fail(
                fail_id,
                error=error or f"{step}{FAILED_ERROR_SUFFIX}",
                cause_path=_format_call([f"Step {step} failed. ", _ERROR, ": ", _CAUSE]),
            )
        elif isinstance(reason, list) and any(isinstance(piece, choice_reasons.Value) for piece in reason):
            fail = sdk.Fail(fail_id, error=error or f"{step}{FAILED_ERROR_SUFFIX}", cause_path=_format_call(reason))
        else:
            cause = "".join(str(piece) for piece in reason) if isinstance(reason, list) else reason
            fail = sdk.Fail(fail_id, error=error or f"{step}{FAILED_ERROR_SUFFIX}", cause=cause)
        alert_id = aux_state(step, "alert" if label == "failed" else f"{label}.alert")
        alert = None if alone else self.alert(alert_id, step, reason, fail)
        if alone and step not in scope.silenced:
            scope.silenced.append(step)
        if alert is not None:
            scope.add(alert, at_end=True)
        scope.add(fail, at_end=True)
        scope.failure_paths[key] = alert or fail
        return scope.failure_paths[key]

    def branch_failure(self, parallel: Any, steps: list[str], scope: Scope) -> None:
        """Alert once for the steps of `parallel`'s branches with few that may fail: such a step fails its
        branch with `<step>.Failed` without alerting, and the Parallel state catches exactly those errors,
        alerts naming the step (the error name's first part) and fails with the same error and cause. A
        step of a branch with more alerts there (`shared_failure`), and its error is not caught here, so
        nothing alerts twice."""
        if not steps:
            return
        name = parallel.state_id
        step = choice_reasons.Value("States.ArrayGetItem(States.StringSplit($.error.Error, '.'), 0)")
        fail = sdk.Fail(aux_state(name, "failed"), error_path="$.error.Error", cause_path="$.error.Cause")
        alert = scope.add(self.alert(aux_state(name, "alert"), step, ["Cause: ", _CAUSE, "."], fail), at_end=True)
        scope.add(fail, at_end=True)
        errors = [f"{failed}{FAILED_ERROR_SUFFIX}" for failed in steps]
        parallel.add_catch(sdk.Catch(error_equals=errors, next_step=alert, result_path="$.error"))

    def _scope(self, node: Node | None, *, branch: bool = False) -> Scope:
        """The scope a plan node is built into (`branch`: a Parallel state's branch or a network's member).
        With alerts, the steps of a branch with few that may fail fail it without alerting, and the
        Parallel state alerts (`branch_failure`: one alert for all its branches' steps, each step adding
        its Fail of about 150 bytes); elsewhere its steps share one failure path when two or more may fail
        there (one alert state of about 1,000 bytes serves them all, each step adding a Pass of 90)."""
        failing = self._failing_steps(node) if node is not None and self.workflow.notifications is not None else 0
        alone = branch and 1 <= failing <= SILENCED_PER_BRANCH
        return Scope(shares_failures=failing >= 2 and not alone, alone=alone)

    def _failing_steps(self, node: Node) -> int:
        """The task steps built into the same scope as `node` (with their catch handler paths): not
        those inside its Parallel, network or part nodes, which have scopes of their own."""
        if isinstance(node, Sequence):
            return sum(self._failing_steps(item) for item in node.items)
        if not isinstance(node, Leaf):
            return 0
        step = self.workflow.steps[node.step]
        handlers = [self.plan.regions[c.next] for c in step.catch if c.next in self.plan.regions]
        return int(step.is_task) + sum(self._failing_steps(handler) for handler in handlers)

    def shared_failure(self, scope: Scope) -> Any:
        """The failure path of a scope's steps that failed with a caught error: one alert (when there is
        a topic) and one Fail for all of them, reading the step's name from FAILED_STEP (its
        `<step>.failed` Pass puts it there). The execution still fails with `<step>.Failed`."""
        if scope.shared_failure is None:
            if scope is self.top:
                name = "any step"
            else:
                self.shared_count += 1
                name = f"any step {self.shared_count}"
            step = choice_reasons.Value(FAILED_STEP)
            fail = sdk.Fail(
                aux_state(name, "failed"),
                error_path=_format_call([step, FAILED_ERROR_SUFFIX]),
                cause_path=_format_call(["Step ", step, " failed. ", _ERROR, ": ", _CAUSE]),
            )
            alert = self.alert(aux_state(name, "alert"), step, None, fail)
            if alert is not None:
                scope.add(alert, at_end=True)
            scope.add(fail, at_end=True)
            scope.shared_failure = alert or fail
        return scope.shared_failure

    def alert(
        self, state_id: str, step: str | choice_reasons.Value, reason: str | choice_reasons.Reason | None, then: Any
    ) -> Any:
        """An alert naming `step` (its name, or where the state holds it when the alert is sent) and why it
        failed."""
        notifications = self.workflow.notifications
        if notifications is None:
            return None
        name = self.workflow.name
        why = ["Error: ", _ERROR, ". Cause: ", _CAUSE, "."] if reason is None else reason
        message = _format_call([f"Workflow {name}: step ", step, " failed. ", *why, " Execution: ", *_CONSOLE])
        parameters: dict[str, Any] = {}
        if notifications.topic_arn:
            parameters["TopicArn"] = notifications.topic_arn
        else:
            parameters["TopicArn.$"] = str(arn_in_own_account("sns", notifications.topic_name or ""))
        if isinstance(step, str):
            subject = "".join(_subject(name, step))
            too_long = len(subject) > SNS_SUBJECT_LIMIT
            parameters["Subject"] = subject[: SNS_SUBJECT_LIMIT - 3] + "..." if too_long else subject
        else:  # the shared path's, taken only by steps whose subject fits (`failure_path`)
            parameters["Subject.$"] = _format_call(_subject(name, step))
        parameters["Message.$"] = message
        about = step if isinstance(step, str) else "a step"
        alert = sdk.Task(
            state_id,
            resource=ALERT_RESOURCE,
            parameters=parameters,
            result_path=None,
            timeout_seconds=60,
            comment=f"Alerts the notification topic that {about} failed.",
        )
        alert.add_retry(sdk.Retry(error_equals=["States.ALL"], interval_seconds=2, max_attempts=2, backoff_rate=2.0))
        alert.add_catch(sdk.Catch(error_equals=["States.ALL"], next_step=then, result_path="$.alert_error"))
        alert.next(then)
        return alert

    # -- flow steps ----------------------------------------------------

    def wait(self, step: Step, scope: Scope) -> Block:
        from .durations import parse_duration

        options: dict[str, Any] = {}
        if "seconds" in step.config:
            options["seconds"] = parse_duration(step.config["seconds"])
        else:
            until = step.config["until"]
            ref = parse_template(until).single_reference
            if ref is not None:
                options["timestamp_path"] = self.renderer.path(ref)
            else:
                options["timestamp"] = until
        state = scope.add(sdk.Wait(step.name, comment=step.comment, **options))
        return Block(state, [next_exit(state)])

    def choice(self, step: Step, scope: Scope, available: list[str]) -> Block:
        state = scope.add(sdk.Choice(step.name, comment=step.comment))
        regions: dict[str, Block] = {}
        exits: list[Exit] = []

        def target_of(name: str, rule_index: int | None) -> Any:
            rules = step.config["choices"]
            if name == "fail" and rule_index is None:
                reason = choice_reasons.unmatched(step.name, rules, self.renderer.path)
                return self.failure_path(step.name, scope, reason, label="unmatched")
            if name == "fail":
                reason = choice_reasons.matched(step.name, rules[rule_index], self.renderer.path)
                return self.failure_path(step.name, scope, reason, label=f"rule-{rule_index + 1}")
            if name == "succeed":
                return None
            if name not in regions:
                block, _ = self.node(self.plan.regions[name], scope, available)
                regions[name] = block
                exits.extend(block.exits)
            return regions[name].entry

        for index, rule in enumerate(step.config["choices"]):
            target = target_of(rule["next"], index)
            state.add_choice(self.condition(rule), target)
            if target is None:
                exits.append(Exit(lambda t, i=index: state.set_rule_target(i, t), needs_terminal=True))
        default = step.config.get("default", "fail")
        target = target_of(default, None)
        if target is None:
            exits.append(Exit(state.default_choice, needs_terminal=True))
        else:
            state.default_choice(target)
        return Block(state, exits)

    def condition(self, rule: dict[str, Any]) -> Any:
        rules = sdk.ChoiceRule
        if "all" in rule:
            return rules.And([self.condition(r) for r in rule["all"]])
        if "any" in rule:
            return rules.Or([self.condition(r) for r in rule["any"]])
        if "not" in rule:
            return rules.Not(self.condition(rule["not"]))
        variable = self.renderer.path(parse_path(rule["when"]))
        if "is_present" in rule:
            return rules.IsPresent(variable=variable, value=bool(rule["is_present"]))
        if "is_null" in rule:
            return rules.IsNull(variable=variable, value=bool(rule["is_null"]))
        if "matches" in rule:
            return rules.StringMatches(variable=variable, value=rule["matches"])
        for test, (name, negate) in _COMPARATORS.items():
            if test in rule:
                value = rule[test]
                ref = parse_template(value).single_reference if isinstance(value, str) else None
                if ref is not None:
                    value = self.renderer.path(ref)
                    factory = getattr(rules, _family(self._type_of(ref, rule)) + name + "Path")
                else:
                    factory = getattr(rules, _family(_literal_type(value)) + name)
                made = factory(variable=variable, value=value)
                return rules.Not(made) if negate else made
        raise ValueError(f"rule without a test: {rule}")

    def _type_of(self, ref: Any, rule: dict[str, Any]) -> str:
        from .references import resolve

        found = resolve(ref, self.workflow).json_type
        return found or resolve(parse_path(rule["when"]), self.workflow).json_type or "string"


_COMPARATORS = {
    "equals": ("Equals", False),
    "not_equals": ("Equals", True),
    "greater_than": ("GreaterThan", False),
    "greater_than_or_equal": ("GreaterThanEquals", False),
    "less_than": ("LessThan", False),
    "less_than_or_equal": ("LessThanEquals", False),
}


def _family(json_type: str) -> str:
    return {"number": "Numeric", "boolean": "Boolean"}.get(json_type, "String")


def _literal_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, int | float) else "string"


def _subject(workflow: str, step: str | choice_reasons.Value) -> choice_reasons.Reason:
    """An alert's subject naming the step, in pieces."""
    return ["sfn-build: ", workflow, ": ", step, " failed"]


def _format_call(pieces: choice_reasons.Reason) -> str:
    """`States.Format` of literal pieces (escaped) and values read from the state (their paths)."""
    text, values = "", []
    for piece in pieces:
        if isinstance(piece, choice_reasons.Value):
            text += "{}"
            values.append(piece.path)
        else:
            text += quote(piece)[1:-1]
    return f"States.Format('{text}', {', '.join(values)})"


def _retry_fields(policy: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"error_equals": list(policy.errors)}
    for name, value in (
        ("interval_seconds", policy.interval),
        ("max_attempts", policy.max_attempts),
        ("backoff_rate", float(policy.backoff_rate) if policy.backoff_rate is not None else None),
        ("max_delay_seconds", policy.max_delay),
        ("jitter_strategy", policy.jitter),
    ):
        if value is not None:
            fields[name] = value
    return fields


__all__ = ["build_definition", "jsonpath", "walk_states"]


def _outside(variable: str, allowed: tuple[Any, ...]) -> Any:
    """A choice rule true when the value at `variable` is none of `allowed` (or of another type)."""
    rules = []
    for value in allowed:
        if isinstance(value, bool):
            rules.append(sdk.ChoiceRule.BooleanEquals(variable=variable, value=value))
        elif isinstance(value, int | float):
            rules.append(sdk.ChoiceRule.NumericEquals(variable=variable, value=value))
        else:
            rules.append(sdk.ChoiceRule.StringEquals(variable=variable, value=value))
    return sdk.ChoiceRule.Not(rules[0] if len(rules) == 1 else sdk.ChoiceRule.Or(rules))


def _kept(
    available: list[str], produced: list[tuple[int, str]], keep: Keep
) -> tuple[list[str], list[tuple[int, str]]]:
    """The kept results a Parallel state gathers: those needed after it (all when `keep` is None)."""
    if keep is None:
        return available, produced
    return [s for s in available if s in keep], [(i, s) for i, s in produced if s in keep]


def _go_on(cleared: list[Any], target: Any) -> None:
    """After the markers are cleared (or could not be), on to `target`."""
    cleared[-1].next(target)
    for clear in cleared:
        clear.catches[-1].next_step = target


def _from_first_branch(selector: dict[str, Any]) -> dict[str, Any]:
    """A ResultSelector of a task's result, as one of a one-branch Parallel's (its result is a list)."""
    return {
        key: _from_first_branch(value) if isinstance(value, dict) else "$[0]" + value[1:]
        for key, value in selector.items()
    }


def _tag_with_cache_key(job: Any, path: str) -> None:
    """Tag the job with its cache key (read at run time from the lookup's answer)."""
    tags = job.fields["parameters"].get("Tags")
    if isinstance(tags, list):  # SageMaker: [{"Key": ..., "Value": ...}]
        tags.append({"Key": TAG_CACHE_KEY, "Value.$": path})
    elif isinstance(tags, dict):  # Batch: {key: value}
        tags[f"{TAG_CACHE_KEY}.$"] = path
