"""Command line: `python -m knhk.engine check|simulate|patterns`.

Exit codes: 0 success (valid / completed), 1 patterns registry missing, 2 invalid spec or input,
3 simulation deadlocked, failed or hit the step limit.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import stat
import sys
from dataclasses import dataclass, field
from typing import Any

from knhk.engine.compile import Executor, SpecInvalid, compile_spec
from knhk.engine.expressions import configure
from knhk.engine.importers import json_depth, load_spec_file
from knhk.engine.runtime import Case, EngineError, start_data
from knhk.engine.spec import SpecError, Specification
from knhk.engine.types import type_default, value_problem
from knhk.engine.verify import errors_only, verify

__all__ = ["main", "run_case", "SimulationResult", "type_default"]

EXIT_OK, EXIT_MISSING, EXIT_INVALID, EXIT_STUCK = 0, 1, 2, 3
MAX_DATA_DEPTH = 32  # --data nested deeper is refused (as case data through the API)


@dataclass
class SimulationResult:
    """How a simulated case ended."""

    status: str
    trace: list[str] = field(default_factory=list)
    enabled: list[str] = field(default_factory=list)
    marking: dict[str, int] = field(default_factory=dict)
    stuck: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    steps: int = 0


def _completion_data(case: Case, item_id: str) -> dict[str, Any]:
    """The required outputs: the item's input value of the same name when it fits the type, else the
    type's empty value."""
    item = case.items[item_id]
    data = {}
    for param in item.ctask.spec.outputs or ():
        if param.required:
            value = item.data.get(param.name)
            fits = param.name in item.data and value_problem(param.name, param.type, value) is None
            data[param.name] = value if fits else type_default(param.type)
    return data


def run_case(
    executor: Executor,
    data: dict[str, Any] | None = None,
    choice: str = "first",
    seed: int | None = None,
    max_steps: int = 10_000,
    case: Case | None = None,
) -> SimulationResult:
    """Run a case to its end: start enabled items (chosen by policy) and complete them at once.

    `choice` "first" takes the oldest enabled item, "random" a random one (seeded). MI tasks start
    their parent item, then their instances are started and completed like any item. Pass `case`
    to continue an existing case.
    """
    rng = random.Random(seed)
    if case is None:
        case = executor.start_case("simulation", data or {})
    trace: list[str] = []
    stuck: list[str] = []
    errors: list[str] = []
    failed: list[str] = []  # tasks whose work item failed (a query that failed at run time)
    steps = 0

    def collect() -> None:
        for event in case.drain_events():
            if event.kind == "item_completed" and not (event.payload and event.payload.get("kind") == "mi"):
                trace.append(event.task_id or "")
            elif event.kind == "case_deadlocked" and event.payload:
                stuck.extend(event.payload["stuck"])
            elif event.kind == "item_failed" and event.payload:
                failed.append(event.task_id or "")
                errors.append(f"work item of task {event.task_id!r} failed: {event.payload.get('reason')}")

    collect()
    status = case.status
    while case.status == "running":
        enabled = case.enabled_items()
        if not enabled:
            break  # only started composite items are live: cannot happen without user action
        if steps >= max_steps:
            status = "step_limit"
            break
        item = enabled[0] if choice == "first" else rng.choice(enabled)
        steps += 1
        try:
            case.start(item.id)
            if item.id in case.items and item.kind in ("manual", "automated"):
                case.complete(item.id, _completion_data(case, item.id))
        except EngineError as exc:
            errors.append(exc.message)
            break
        collect()
    collect()
    if status != "step_limit":
        status = case.status
    if status == "deadlocked" and failed:  # it stopped because a work item failed: say so, and where
        status = "failed"
        stuck = [task for task in dict.fromkeys(failed) if task not in stuck] + stuck
    return SimulationResult(
        status=status,
        trace=trace,
        enabled=[item.task for item in case.enabled_items()],
        marking=case.marking(),
        stuck=stuck,
        errors=errors,
        data=dict(case.data) if case.root is not None else {},
        steps=steps,
    )


# ---------------------------------------------------------------------------- commands


def _load(path: str) -> tuple[Specification | None, list[str]]:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a device or pipe has no size to check
            return None, [f"error: {path}: not a regular file"]
    except OSError as exc:
        return None, [f"error: {path or repr(path)}: cannot read: {exc.strerror}"]
    try:
        return Specification.from_dict(load_spec_file(path)), []
    except SpecError as exc:
        return None, [f"error: {message}" for message in exc.messages]
    except (ValueError, OSError) as exc:  # SpecFileError and importer errors are ValueErrors
        return None, [f"error: {exc}"]


def _check(args: argparse.Namespace) -> int:
    spec, messages = _load(args.file)
    if spec is None:
        print("\n".join(messages))
        return EXIT_INVALID
    # a YAWL file is held to the YAWL verifier's stricter data rules (every mapping target declared)
    problems = verify(spec, yawl=args.file.lower().endswith((".yawl", ".xml")))
    for problem in problems:
        print(problem)
    if errors_only(problems):
        return EXIT_INVALID
    print(f"{args.file}: valid" + (f" ({len(problems)} warnings)" if problems else ""))
    return EXIT_OK


def _start_data(executor: Executor, given: dict[str, Any]) -> dict[str, Any]:
    data = dict(given)
    for variable in executor.spec.root.variables:
        if variable.usage in ("input", "both") and variable.name not in data and variable.initial is None:
            data[variable.name] = type_default(variable.type)
    return data


def _simulate(args: argparse.Namespace) -> int:
    if args.xpath_timeout_ms is not None:
        configure(xpath_timeout_ms=args.xpath_timeout_ms)
    spec, messages = _load(args.file)
    errors = list(messages)
    result: SimulationResult | None = None
    if spec is not None:
        try:
            try:
                given = json.loads(args.data) if args.data else {}
            except RecursionError:
                raise ValueError(f"nested deeper than {MAX_DATA_DEPTH} levels") from None
            if not isinstance(given, dict):
                raise ValueError("must be a JSON object")
            if json_depth(given, stop_after=MAX_DATA_DEPTH) > MAX_DATA_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DATA_DEPTH} levels")
        except ValueError as exc:
            errors.append(f"error: --data: {exc}")
            given = None
        try:
            executor = compile_spec(spec)
        except SpecInvalid as exc:
            errors.extend(str(problem) for problem in errors_only(exc.problems))
            executor = None
        if executor is not None and given is not None:
            data = _start_data(executor, given)
            try:
                start_data(executor.root, data)  # refused start data is invalid input (exit 2)
            except EngineError as exc:  # start data the net refuses: invalid input
                errors.append(f"error: --data: {exc.message}")
            else:
                try:
                    result = run_case(executor, data, args.choice, args.seed, args.max_steps)
                except EngineError as exc:  # the spec is valid, but its case could not run (a routing loop)
                    result = SimulationResult(status="failed", errors=[exc.message])
    if result is None:
        if args.json:
            print(
                json.dumps({"status": "invalid", "trace": [], "enabled": [], "marking": {}, "errors": errors})
            )
        else:
            print("\n".join(errors))
        return EXIT_INVALID
    if args.json:
        print(json.dumps(dataclasses.asdict(result), default=str))
    else:
        for task_id in result.trace:
            print(task_id)
        outcome = result.status
        if result.stuck:
            outcome += " (stuck: " + ", ".join(result.stuck) + ")"
        print(f"outcome: {outcome}")
        for error in result.errors:
            print(f"error: {error}")
    return EXIT_OK if result.status == "completed" else EXIT_STUCK


def _field(entry: Any, name: str) -> Any:
    return entry.get(name) if isinstance(entry, dict) else getattr(entry, name, None)


def _patterns(args: argparse.Namespace) -> int:
    try:
        from knhk.engine.patterns import registry
    except ImportError:
        print("the pattern registry (knhk.engine.patterns.registry) is not available yet", file=sys.stderr)
        return EXIT_MISSING
    entries = list(registry())
    if args.json:
        rows = [
            entry if isinstance(entry, dict) else dataclasses.asdict(entry)
            if dataclasses.is_dataclass(entry) else {k: _field(entry, k) for k in ("id", "name", "expressed_as", "test")}
            for entry in entries
        ]  # fmt: skip
        print(json.dumps(rows, default=str))
        return EXIT_OK
    for entry in entries:
        number = _field(entry, "id")
        label = f"WCP-{number:02d}" if isinstance(number, int) else str(number)
        print(f"{label} {_field(entry, 'name')}: {_field(entry, 'expressed_as')}")
    return EXIT_OK


def _steps(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _milliseconds(text: str) -> int:
    value = _steps(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m knhk.engine`."""
    parser = argparse.ArgumentParser(prog="python -m knhk.engine", description="KNHK workflow engine tools")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="verify a specification (JSON or YAWL)")
    check.add_argument("file")
    check.set_defaults(handler=_check)
    simulate = commands.add_parser("simulate", help="run one case to its end")
    simulate.add_argument("file")
    simulate.add_argument("--data", help="start data, a JSON object")
    simulate.add_argument("--choice", choices=("first", "random"), default="first",
                          help="how to pick among competing enabled work items")  # fmt: skip
    simulate.add_argument("--seed", type=int, default=None)
    simulate.add_argument("--max-steps", type=_steps, default=10_000)
    simulate.add_argument("--xpath-timeout-ms", type=_milliseconds, default=None,
                          help="time one expression evaluation may take (default 1000)")  # fmt: skip
    simulate.add_argument("--json", action="store_true", help="print one JSON object")
    simulate.set_defaults(handler=_simulate)
    patterns = commands.add_parser("patterns", help="the 43 control-flow patterns and how they are expressed")
    patterns.add_argument("--json", action="store_true")
    patterns.set_defaults(handler=_patterns)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    return args.handler(args)
