"""Regenerate the example outputs kept under reports/ (one command, documented in the README):

    python scripts/regenerate_reports.py

- reports/reference-mock/: `conformance run` against the embedded mock (results.json, matrix.md,
  junit.xml, report.html);
- reports/profiles/<id>/: the same against each vendor profile (ScaiGrid, The Grid, FlexAI);
- reports/docs/: `conformance docs` over all four runs: a docs page, HTML report, badge, JUnit and
  step summary per run, and the comparison page;
- reports/docs/*.png: headless Chromium screenshots of an HTML report (the matrix, and an evidence
  panel), when /usr/bin/chromium is installed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from conformance.cli import main
from conformance.mock.profiles import VENDOR_PROFILES

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# headless, and every background service that could reach the network off (tests use the same flags)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def run(*args: str) -> None:
    code = main(list(args))
    if code not in (0, 1):  # 1: a profile's findings (not certified), which is the point
        raise SystemExit(f"conformance {' '.join(args)} exited {code}")


def screenshot(page: Path, suffix: str, out: Path, height: int) -> None:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile_dir:
        subprocess.run(
            [
                CHROMIUM,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile_dir}",
                f"--screenshot={out}",
                f"--window-size=1280,{height}",
                page.as_uri() + suffix,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def regenerate() -> None:
    run("run", "--out", str(REPORTS / "reference-mock"), "--quiet")
    results = [REPORTS / "reference-mock" / "results.json"]
    for profile in VENDOR_PROFILES:
        out = REPORTS / "profiles" / profile
        run("run", "--mock-profile", profile, "--out", str(out), "--quiet")
        results.append(out / "results.json")
    docs = REPORTS / "docs"
    if docs.exists():
        shutil.rmtree(docs)
    run("docs", *map(str, results), "--out", str(docs))
    if CHROMIUM is None:
        print("no chromium: screenshots not refreshed", file=sys.stderr)
        return
    report = docs / "flexai-reference-mock-profile.html"
    screenshot(report, "", docs / "report-matrix.png", 1400)
    screenshot(report, "?focus=chat.response_format.json_schema", docs / "report-evidence.png", 1400)


if __name__ == "__main__":
    regenerate()
