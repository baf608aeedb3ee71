"""bench/bench_report.py: one run of moesim_bench for its JSON report, and the rates in it; shared by
bench/compare_pytorch and bench/ab (python3 only)."""
import json
import subprocess


class BenchError(Exception):
    """A run that failed, printed no JSON report, or has a benchmark that reported an error."""


def run_report(binary, flags, launcher=()):
    """The benchmarks of one `<launcher> binary --benchmark_format=json <flags>` run (launcher: e.g.
    setarch's words; empty when the filter matches nothing); BenchError with the reason otherwise."""
    run = subprocess.run([*launcher, binary, "--benchmark_format=json", *flags], capture_output=True, text=True)
    if run.returncode != 0:
        raise BenchError(f"{binary} failed (exit {run.returncode}): {run.stderr.strip()[-500:]}")
    if "Failed to match any benchmarks" in run.stderr:
        return []
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError as e:
        raise BenchError(f"{binary} did not print a JSON report ({e})")
    benchmarks = report.get("benchmarks", [])
    for b in benchmarks:
        if b.get("error_occurred"):
            raise BenchError(f"{binary}: benchmark {b.get('run_name', b.get('name'))} reported an error: {b.get('error_message')}")
    return benchmarks


def million_per_second(benchmarks, medians_only):
    """items_per_second / 1e6 of each case by run name: of its median aggregate when medians_only (runs
    with --benchmark_repetitions > 1), else of its single run."""
    return {b.get("run_name", b["name"]): b["items_per_second"] / 1e6 for b in benchmarks
            if "items_per_second" in b and (not medians_only or b.get("aggregate_name") == "median")}
