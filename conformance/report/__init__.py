"""Writers of run results. Every output is a pure function of the results.json document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.report.badge import render_badge, render_badge_json
from conformance.report.comparison import COMPARISON_FILE, check_not_run, is_not_run, render_comparison
from conformance.report.docs import render_docs_page, render_step_summary, slug
from conformance.report.html import render_html
from conformance.report.junit import render_junit
from conformance.report.markdown import render_matrix
from conformance.report.results import dumps, validate_results

RESULTS_FILE = "results.json"
MATRIX_FILE = "matrix.md"
JUNIT_FILE = "junit.xml"
HTML_FILE = "report.html"


def write_reports(results: dict[str, Any], out_dir: Path) -> list[Path]:
    """Validate ``results`` against the shipped schema, then write every report into ``out_dir``."""
    validate_results(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = {
        RESULTS_FILE: dumps(results),
        MATRIX_FILE: render_matrix(results),
        JUNIT_FILE: render_junit(results),
        HTML_FILE: render_html(results),
    }
    written = []
    for name, text in outputs.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def badge_outputs(results: dict[str, Any], name: str) -> dict[str, str]:
    """The badge, ``NAME.svg``, and beside it the same badge as a shields.io endpoint, ``NAME.badge.json``:
    wherever a badge is written, both are."""
    return {f"{name}.svg": render_badge(results), f"{name}.badge.json": render_badge_json(results)}


def write_docs(documents: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    """Per run: the docs page, the HTML report it links to, a badge (SVG and shields.io endpoint JSON),
    JUnit and a CI step summary; with several runs (a target's not-run record counting as one), the
    comparison page too."""
    for document in documents:
        if is_not_run(document):
            check_not_run(document)
        else:
            validate_results(document)
    runs = [document for document in documents if not is_not_run(document)]
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs: dict[str, str] = {}
    for results, name in zip(runs, _file_names(runs), strict=True):
        outputs[f"{name}.md"] = render_docs_page(results, report=f"{name}.html")
        outputs[f"{name}.html"] = render_html(results)
        outputs.update(badge_outputs(results, name))
        outputs[f"{name}.junit.xml"] = render_junit(results)
        outputs[f"{name}.summary.md"] = render_step_summary(results)
    if len(documents) > 1:
        outputs[COMPARISON_FILE] = render_comparison(documents)
    written = []
    for file_name, text in outputs.items():
        path = out_dir / file_name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def write_comparison(documents: list[dict[str, Any]], out_dir: Path) -> Path:
    """``comparison.md`` alone, as ``conformance run`` writes it beside the runs of a file of several targets."""
    path = out_dir / COMPARISON_FILE
    path.write_text(render_comparison(documents), encoding="utf-8")
    return path


def _file_names(runs: list[dict[str, Any]]) -> list[str]:
    """Each run's file name: its target's; one target's runs under several SDK lines (CI's matrix) add
    the line, and names that still repeat a number, so that no run's pages overwrite another's."""
    names = [slug(results) for results in runs]
    names = [
        f"{name}-openai-{results['sdk']['version']}".replace(".", "-") if names.count(name) > 1 else name
        for name, results in zip(names, runs, strict=True)
    ]
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(f"{name}-{seen[name]}" if names.count(name) > 1 else name)
    return unique
