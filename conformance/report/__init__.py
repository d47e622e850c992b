"""Writers of run results. Every output is a pure function of the results.json document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.report.junit import render_junit
from conformance.report.markdown import render_matrix
from conformance.report.results import dumps, validate_results

RESULTS_FILE = "results.json"
MATRIX_FILE = "matrix.md"
JUNIT_FILE = "junit.xml"


def write_reports(results: dict[str, Any], out_dir: Path) -> list[Path]:
    """Validate ``results`` against the shipped schema, then write every report into ``out_dir``."""
    validate_results(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = {
        RESULTS_FILE: dumps(results),
        MATRIX_FILE: render_matrix(results),
        JUNIT_FILE: render_junit(results),
    }
    written = []
    for name, text in outputs.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
