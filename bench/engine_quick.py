"""Quick engine timing: microseconds per completed task (start + complete of each work item, events
drained), the best case of many so that a loaded machine disturbs it least.

    .venv/bin/python -m bench.engine_quick [--cases N]

Two specs, as in issue 8: a 100-task sequence, and a 50-branch AND-split into an AND-join.
The full comparison against SpiffWorkflow is `make bench`.
"""

from __future__ import annotations

import argparse
import time

from knhk.engine import compile_spec


def sequence_spec(length: int = 100) -> dict:
    tasks = [{"id": f"T{i}", "flows": [f"T{i + 1}" if i + 1 < length else "end"]} for i in range(length)]
    return {"id": "seq", "conditions": [{"id": "start", "type": "input", "flows": ["T0"]},
                                        {"id": "end", "type": "output"}], "tasks": tasks}  # fmt: skip


def and_join_spec(branches: int = 50) -> dict:
    tasks = [{"id": "split", "flows": [f"B{i}" for i in range(branches)]}]
    tasks += [{"id": f"B{i}", "flows": ["join"]} for i in range(branches)]
    tasks.append({"id": "join", "join": "and", "flows": ["end"]})
    return {"id": "andjoin", "conditions": [{"id": "start", "type": "input", "flows": ["split"]},
                                            {"id": "end", "type": "output"}], "tasks": tasks}  # fmt: skip


def best_per_task(document: dict, cases: int) -> float:
    """Best (least disturbed) seconds per completed task over `cases` cases run to completion."""
    executor = compile_spec(document)
    best = float("inf")
    for number in range(cases):
        case = executor.start_case(str(number), {})
        items = case.items
        completed = 0
        started = time.perf_counter()
        while items:
            item_id = next(iter(items))
            case.start(item_id)
            case.complete(item_id)
            completed += 1
        case.drain_event_tuples()
        best = min(best, (time.perf_counter() - started) / completed)
        assert case.status == "completed"
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=300)
    args = parser.parse_args()
    for name, document in (("sequence-100", sequence_spec()), ("and-split-join-50", and_join_spec())):
        best = best_per_task(document, args.cases)
        print(f"{name}: {best * 1e6:.2f} us per completed task (best of {args.cases} cases)")


if __name__ == "__main__":
    main()
