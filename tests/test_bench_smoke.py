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
    for section in ("## Targets", "## 1–3. Validation", "## 4. Exchanges", "## 5. Generation", "## 7. Memory"):
        assert section in text
    assert "ratio to baseline" in text
