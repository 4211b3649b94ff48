"""The 43 workflow control-flow patterns (Russell, ter Hofstede, van der Aalst, Mulyar 2006).

Pure data: for each pattern its WCP number, canonical name, how KNHK expresses it with YAWL
constructs, the spec in `pattern_specs/` that shows it, and the test that proves it. Served by
`python -m knhk.engine patterns` and `GET /api/v1/patterns`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["PATTERN_SPECS_DIR", "TEST_MODULE", "registry", "pattern", "load_pattern_spec"]

PATTERN_SPECS_DIR = Path(__file__).resolve().parent / "pattern_specs"
TEST_MODULE = "tests/engine/test_patterns.py"

# (WCP, canonical name, spec stem, support, how it is expressed)
# fmt: off
_PATTERNS: tuple[tuple[int, str, str, str, str], ...] = (
    (1, "Sequence", "sequence", "direct",
     "task-to-task flows: each task's implicit output condition enables the next"),
    (2, "Parallel Split", "parallel_split", "direct",
     "AND-split: the task puts a token on every outgoing flow"),
    (3, "Synchronization", "synchronization", "direct",
     "AND-join: the task fires once every input holds a token"),
    (4, "Exclusive Choice", "exclusive_choice", "direct",
     "XOR-split: flows by ascending ordering, the first true predicate wins, else the default flow"),
    (5, "Simple Merge", "simple_merge", "direct",
     "XOR-join: the task fires for whichever input holds a token, without waiting"),
    (6, "Multi-Choice", "multi_choice", "direct",
     "OR-split: every flow whose predicate is true, the default flow only if none is"),
    (7, "Structured Synchronizing Merge", "structured_synchronizing_merge", "direct",
     "OR-join after an OR-split: fires once every branch the split took has arrived"),
    (8, "Multi-Merge", "multi_merge", "direct",
     "XOR-join task runs once per arriving token; a two-token counter of routing tasks (AND-joins on "
     "'merged' with 'once', then with 'counted') lets the net finish after the last run"),
    (9, "Structured Discriminator", "structured_discriminator", "emulated",
     "discriminator: branches put arrivals into one condition; a chain of routing AND-join tasks "
     "consumes them one at a time (counter conditions armed, seen_1, seen_2); the first also enables "
     "the continuation, the last resets the block (all_arrived), the others are absorbed"),
    (10, "Arbitrary Cycles", "arbitrary_cycles", "direct",
     "XOR-joins and XOR-splits forming a cycle with two entry and two exit points"),
    (11, "Implicit Termination", "implicit_termination", "emulated",
     "YAWL nets end in an output condition; the branches' ends meet in a routing OR-join that fires "
     "once no work is left, so the case ends exactly when nothing remains to do"),
    (12, "Multiple Instances without Synchronization", "mi_without_synchronization", "emulated",
     "MI task on its own branch of an AND-split; the main branch runs on without waiting for it; a "
     "routing OR-join ends the case when both are done"),
    (13, "Multiple Instances with a priori Design-Time Knowledge", "mi_design_time", "direct",
     "MI task with min = max = 3 and a constant splitting query (1, 2, 3); the successor waits for all"),
    (14, "Multiple Instances with a priori Run-Time Knowledge", "mi_runtime", "direct",
     "MI task, static creation, one instance per item of a case-data list known when it starts"),
    (15, "Multiple Instances without a priori Run-Time Knowledge", "mi_no_a_priori", "direct",
     "MI task with dynamic creation: instances added while it runs (add_instance); waits for all"),
    (16, "Deferred Choice", "deferred_choice", "direct",
     "two tasks share one input condition: both are offered, starting one withdraws the other"),
    (17, "Interleaved Parallel Routing", "interleaved_parallel_routing", "emulated",
     "interleaving: every task AND-joins on a mutex condition holding one token and gives it back "
     "when it completes; the partial order is ordinary flows"),
    (18, "Milestone", "milestone", "emulated",
     "milestone: the task AND-joins on the milestone condition and re-emits its token through an "
     "AND-split; once the milestone has passed, a routing task retires the task's branch"),
    (19, "Cancel Task", "cancel_task", "direct",
     "cancellation set of B holds task C and its input condition; the successor is an OR-join"),
    (20, "Cancel Case", "cancel_case", "direct",
     "Case.cancel(): every live work item of every net instance (subnets included) is removed and "
     "the case ends as cancelled"),
    (21, "Structured Loop", "structured_loop", "direct",
     "pre-test loop: a routing XOR-split before the body; post-test loop: an XOR-split after it "
     "back to its XOR-join entry"),
    (22, "Recursion", "recursion", "direct",
     "a composite task inside a subnet that decomposes to that same subnet"),
    (23, "Transient Trigger", "transient_trigger", "emulated",
     "transient trigger: the signal is a manual task that can be raised any time; a routing task "
     "discards its token at once unless the receiver waits (complementary conditions waiting and "
     "not_waiting), so a signal nobody waits for is lost"),
    (24, "Persistent Trigger", "persistent_trigger", "emulated",
     "persistent trigger: the signal is a manual task whose token waits in a condition until the "
     "receiver's AND-join consumes it"),
    (25, "Cancel Region", "cancel_region", "direct",
     "cancellation set naming tasks and conditions of two separate branches; an OR-join ends the net"),
    (26, "Cancel Multiple Instance Activity", "cancel_mi_activity", "direct",
     "cancellation set holding the MI task: its unfinished instances are withdrawn, no successor"),
    (27, "Complete Multiple Instance Activity", "complete_mi_activity", "emulated",
     "a task whose cancellation set holds the MI task and its output condition, and whose own flow "
     "puts the token the MI task would have produced into that condition"),
    (28, "Blocking Discriminator", "blocking_discriminator", "emulated",
     "the WCP-9 counter chain inside a loop: a new round must AND-join a 'ready' token that only the "
     "last arrival of the current round returns, so further arrivals are blocked until the reset"),
    (29, "Cancelling Discriminator", "cancelling_discriminator", "direct",
     "routing XOR-join task whose cancellation set holds the other branches and their conditions"),
    (30, "Structured Partial Join", "structured_partial_join", "emulated",
     "partial join: the WCP-9 counter chain where the n-th (2nd of 3) arrival enables the continuation"),
    (31, "Blocking Partial Join", "blocking_partial_join", "emulated",
     "the WCP-28 blocking loop with the counter chain passing control on at the 2nd of 3 arrivals"),
    (32, "Cancelling Partial Join", "cancelling_partial_join", "emulated",
     "counter chain of routing AND-joins; the n-th (2nd of 3) arrival's task cancels the remaining "
     "branches and their conditions"),
    (33, "Generalized AND-Join", "generalized_and_join", "direct",
     "AND-join consuming one token per input per firing; surplus tokens stay for the next firing"),
    (34, "Static Partial Join for Multiple Instances", "static_partial_join_mi", "emulated",
     "MI task with threshold 2: the successor is enabled when 2 instances have completed; YAWL "
     "withdraws the unfinished instances at that point instead of letting them run on, which is "
     "equivalent as far as the case goes because they can have no further effect"),
    (35, "Cancelling Partial Join for Multiple Instances", "cancelling_partial_join_mi", "direct",
     "MI task with threshold 2: completing the 2nd instance enables the successor and withdraws the rest"),
    (36, "Dynamic Partial Join for Multiple Instances", "dynamic_partial_join_mi", "direct",
     "MI task with dynamic creation and threshold 2 as completion condition: reaching it enables the "
     "successor, withdraws the rest and stops new instances"),
    (37, "Local Synchronizing Merge", "local_synchronizing_merge", "emulated",
     "dead-path elimination: every branch delivers a 'true' token (its task ran) or a 'false' token "
     "(a routing task skipped it) to its own condition, and a plain AND-join merges them"),
    (38, "General Synchronizing Merge", "general_synchronizing_merge", "direct",
     "YAWL OR-join (non-local): fires when no token can still reach an empty input, loops included"),
    (39, "Critical Section", "critical_section", "emulated",
     "critical section: a mutex condition holding one token, taken by the first task of each region "
     "(AND-join) and returned by its last task (AND-split)"),
    (40, "Interleaved Routing", "interleaved_routing", "emulated",
     "interleaving: each task AND-joins on a mutex condition holding one token and returns it"),
    (41, "Thread Merge", "thread_merge", "emulated",
     "thread merge: the threads are the instances of an MI task on one branch; its completion merges "
     "them into the single thread that enables the successor"),
    (42, "Thread Split", "thread_split", "emulated",
     "thread split: a composite MI task starts one instance of the thread subnet per data item, all "
     "on the same branch"),
    (43, "Explicit Termination", "explicit_termination", "direct",
     "a token in the output condition ends the net at once, withdrawing all remaining work"),
)
# fmt: on


def _entry(wcp: int, name: str, stem: str, support: str, expressed_as: str) -> dict[str, Any]:
    spec_file = f"wcp{wcp:02d}_{stem}.json"
    return {
        "id": wcp,
        "name": name,
        "expressed_as": expressed_as,
        "support": support,
        "spec": spec_file,
        "spec_id": spec_file.removesuffix(".json"),
        "test": f"{TEST_MODULE}::test_wcp{wcp:02d}_{stem}",
    }


def registry() -> list[dict[str, Any]]:
    """All 43 patterns in WCP order, as JSON-ready dicts (a fresh copy each call)."""
    return [_entry(*row) for row in _PATTERNS]


def pattern(wcp: int) -> dict[str, Any]:
    """One registry entry; KeyError naming the number when it is not 1..43."""
    for row in _PATTERNS:
        if row[0] == wcp:
            return _entry(*row)
    raise KeyError(f"no workflow control-flow pattern WCP-{wcp} (known: 1..43)")


@cache
def _spec_text(wcp: int) -> str:
    return (PATTERN_SPECS_DIR / pattern(wcp)["spec"]).read_text(encoding="utf-8")


def load_pattern_spec(wcp: int) -> dict[str, Any]:
    """The JSON spec that shows pattern `wcp` (a fresh dict each call)."""
    return json.loads(_spec_text(wcp))
