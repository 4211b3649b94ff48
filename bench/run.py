"""Run every benchmark and write bench/results/latest.md and latest.json (`make bench`).

    .venv/bin/python bench/run.py [--quick] [--only engine]

Each figure is the median of several timed runs (time.perf_counter_ns); construction and
compilation happen outside the timed region for both engines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Run as a script, Python puts bench/ first on the path, where http.py would hide the standard
# library's http package: import from the repository root instead.
if sys.path and Path(sys.path[0]).resolve() == REPO / "bench":
    sys.path[0] = str(REPO)
elif str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import engine, http  # noqa: E402
from bench.harness import Result, Timing  # noqa: E402

RESULTS = REPO / "bench" / "results"


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render_markdown(results: list[Result], header: dict[str, str]) -> str:
    lines = ["# Benchmark results", ""]
    lines += [f"- {key}: {value}" for key, value in header.items()]
    lines += ["", "| benchmark | value | unit | peer | peer value | ratio (peer / KNHK) | target | met |",
              "|---|---:|---|---|---:|---:|---|---|"]
    for r in results:
        met = "n/a" if r.met is None else ("yes" if r.met else "**no**")
        ratio = "n/a" if r.ratio is None else f"{r.ratio:,.1f}x" if r.ratio >= 10 else f"{r.ratio:.2f}x"
        lines.append(
            f"| {r.name} | {_fmt(r.value)} | {r.unit} | {r.peer or ''} | {_fmt(r.peer_value)} | {ratio} "
            f"| {r.target or ''} | {met} |"
        )
    notes = [f"- **{r.name}**: {r.note}" for r in results if r.note]
    if notes:
        lines += ["", "## Notes", "", *notes]
    return "\n".join(lines) + "\n"


def write_results(results: list[Result], header: dict[str, str], directory: Path = RESULTS) -> str:
    """Write latest.json (a list of row objects) and latest.md (the table); return the table."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = [asdict(r) for r in results]
    (directory / "latest.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    table = render_markdown(results, header)
    (directory / "latest.md").write_text(table, encoding="utf-8")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter runs (a smoke test)")
    parser.add_argument("--only", choices=["engine", "http"], help="run one group of benchmarks")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for latest.md / latest.json")
    args = parser.parse_args(argv)

    started = time.monotonic()
    load_at_start = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    timing = Timing(repeat=3, run_seconds=0.05) if args.quick else Timing(repeat=7, run_seconds=0.3)
    peer_timing = Timing(repeat=3, run_seconds=0.05) if args.quick else Timing(repeat=5, run_seconds=0.5)
    results: list[Result] = []
    facts: dict[str, str] = {}
    if args.only in (None, "engine"):
        print("Engine hot path (KNHK vs SpiffWorkflow, same process):", flush=True)
        results += engine.run(timing, peer_timing)
    if args.only in (None, "http"):
        print("End to end over HTTP:", flush=True)
        durations = (http.Durations(warmup=1, throughput=4, fixed_rate=4, list_requests=20, list_seconds=5,
                                    top_up_seconds=10, scale_cases=20_000)
                     if args.quick else http.Durations())
        rows, facts = http.run(durations)
        results += rows
    header = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "machine": f"{platform.machine()}, {_cpu_count()} cores, Python {platform.python_version()}",
        "load average at start (1/5/15 min)": load_at_start,
        "peer": f"SpiffWorkflow {_spiff_version()} (same process)",
        "method": (f"median of {timing.repeat} runs of >= {timing.run_seconds}s (peer: {peer_timing.repeat} runs "
                   f"of >= {peer_timing.run_seconds}s), time.perf_counter_ns; specs built and compiled outside "
                   "the timed region; shapes on both engines in alternating rounds, ratio = median of the rounds' ratios"),
        **facts,
        "duration": f"{time.monotonic() - started:.0f}s",
    }
    print(write_results(results, header, args.out))
    return 0


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _spiff_version() -> str:
    from importlib.metadata import version

    return version("SpiffWorkflow")


if __name__ == "__main__":
    sys.exit(main())
