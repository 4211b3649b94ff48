"""KNHK workflow engine: YAWL nets verified, compiled once and run with exact token semantics.

Pure Python; never imports Django. See docs/architecture.md for the public API.
"""

from knhk.engine.compile import Executor, SpecInvalid, clear_executor_cache, compile_spec, get_executor
from knhk.engine.expressions import configure
from knhk.engine.runtime import Case, EngineError, Event, WorkItem
from knhk.engine.spec import SpecError, Specification
from knhk.engine.verify import Problem, verify

__all__ = [
    "Case",
    "EngineError",
    "Event",
    "Executor",
    "Problem",
    "SpecError",
    "SpecInvalid",
    "Specification",
    "WorkItem",
    "clear_executor_cache",
    "compile_spec",
    "configure",
    "get_executor",
    "verify",
]
