"""The benchmarks still run (tiny sizes): they are measured in bench/, never asserted here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_bench_runs_at_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    done = subprocess.run([sys.executable, "-m", "bench.run", "--size", "tiny", "--out", str(out), "--skip", "wall"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    text = out.read_text()
    for section in ("## Targets", "## 1–3. Validation", "## 1b. Profile", "## 4. Exchanges", "## 5. Generation",
                    "## 7. Memory"):
        assert section in text
    assert "ratio to baseline" in text


def test_a_comparison_judges_an_older_run_by_the_current_targets() -> None:
    """A run written before a target was set still has the tables it is worked out from."""
    from bench.compare import compare

    def run(rate: float) -> str:
        return ("# Benchmark results\n\n## Targets\n\n| target | measured | |\n|---|---|---|\n\n"
                "## 1–3. Validation\n\n### export-job, valid\n\nBaseline: **python-jsonschema + FormatChecker**.\n\n"
                "| what | per second | ratio to baseline |\n|---|---:|---:|\n"
                "| python-jsonschema + FormatChecker | 2,000 | 1.00× |\n| orjson.loads (parse only) | 400,000 | 200.00× |\n"
                f"| aep_export_contracts.validate_bytes (full: schema + rules) | {rate:,.0f} | 1.00× |\n")

    table = compare(run(40_000), run(100_000), "t")
    assert "| valid export-job from bytes vs orjson parse only | 0.100× | 0.250× | +150.0 % |" in table, table


def test_a_comparison_counts_a_figure_under_a_ceiling_better_when_it_falls() -> None:
    """A target whose goal is a ceiling (the text report's wall time over the JSON one's, goal ≤ 2×) improves as
    its figure goes down, as a time does; a rate improves as it goes up."""
    from bench.compare import compare

    def run(ratio: float, rate: float) -> str:
        return ("# Benchmark results\n\n## Targets\n\n| target | measured | |\n|---|---|---|\n"
                f"| lint of a large list: text report's wall time over the JSON one's | {ratio:.2f}× (goal ≤ 2×) | met |\n"
                f"| export-job: bulk generate --invalid | {rate:,.1f} per s here; {rate:,.1f} per s on the reference "
                "machine (goal ≥ 2,000) | met |\n")

    table = compare(run(1.00, 2_000), run(0.80, 2_500), "t")
    assert "| lint of a large list: text report's wall time over the JSON one's | 1.000× | 0.800× | +25.0 % |" in table
    assert "| export-job: bulk generate --invalid | 2,000.000/s | 2,500.000/s | +25.0 % |" in table, table
