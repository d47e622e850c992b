"""One decision per feature: the exit code, JUnit and pytest say the same thing, in every case.

``conformance.policy`` decides; the CLI's exit code, ``junit.xml`` and the pytest plugin map. The
matrix below is every combination of verdict, level, vendor claim and known-failing entry; each
must come out of the three front ends as the same kind of result. Then the three disagreements
users met before the policy existed, as regressions, and the same agreement end to end.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.document import judge_document
from conformance.expectations import Expectations, KnownFailure
from conformance.plugin import CheckFailed, HarnessError, report_judgement
from conformance.policy import Disposition, Reading, gate_of, judgement_of, reading_status
from conformance.report.junit import render_junit
from conformance.verdict import Outcome, Status
from tests.sample_results import STRICT_PROBLEM, feature, sample_results

TODAY = dt.date(2026, 11, 30)
FEATURE = "chat.stream.done_sentinel"
SIBLING = "chat.stream.finish_reason"  # matched by the same glob, always supported here

CLAIMS = {"none": None, "supported": "supported", "unsupported": "unsupported"}
KNOWN = {
    "none": None,
    "exact": KnownFailure(FEATURE, "tracked upstream"),
    "glob": KnownFailure("chat.stream.*", "streaming rewrite"),
    "expired": KnownFailure(FEATURE, "was due last month", expires=TODAY - dt.timedelta(days=30)),
}


def document(status: str, level: str, claim: str | None, known: KnownFailure | None) -> dict[str, Any]:
    results = sample_results()
    results["features"] = {
        FEATURE: feature(status, level, "streaming", f"the verdict is {status}"),
        SIBLING: feature("supported", "required", "streaming", "fine"),
    }
    expectations = Expectations(
        supported=(FEATURE,) if claim == "supported" else (),
        unsupported=(FEATURE,) if claim == "unsupported" else (),
        known_failing=(known,) if known else (),
    )
    return judge_document(results, expectations, TODAY)


def junit_outcome(results: dict[str, Any], feature_id: str) -> str:
    case = next(c for c in ET.fromstring(render_junit(results)).iter("testcase") if c.get("name") == feature_id)
    for kind in ("failure", "error", "skipped"):
        if case.find(kind) is not None:
            return kind
    return "pass"


def pytest_outcome(results: dict[str, Any], feature_id: str) -> str:
    entry = results["features"][feature_id]
    try:
        report_judgement(judgement_of(entry), Outcome(Status(entry["status"]), entry["reason"]))
    except CheckFailed:
        return "failure"
    except HarnessError:
        return "error"
    except pytest.xfail.Exception:
        return "xfail"
    except pytest.skip.Exception:
        return "skipped"
    return "pass"


# what each disposition is called by JUnit, by pytest, and what it does to the exit code
SAID = {
    Disposition.PASS: ("pass", "pass", 0),
    Disposition.FAIL: ("failure", "failure", 1),
    Disposition.ERROR: ("error", "error", 1),
    Disposition.SKIP: ("skipped", "skipped", 0),
    Disposition.EXPECTED_FAIL: ("skipped", "xfail", 0),
}


@pytest.mark.parametrize(
    ("status", "level", "claim", "known"),
    list(itertools.product([s.value for s in Status], ["required", "optional"], CLAIMS, KNOWN)),
)
def test_exit_code_junit_and_pytest_agree(status: str, level: str, claim: str, known: str) -> None:
    results = document(status, level, CLAIMS[claim], KNOWN[known])
    judgement = judgement_of(results["features"][FEATURE])
    junit, said_by_pytest, exit_code = SAID[judgement.disposition]
    assert junit_outcome(results, FEATURE) == junit
    assert pytest_outcome(results, FEATURE) == said_by_pytest
    # the sibling may fail too (a stale glob), so the exit code is checked against both features
    sibling = judgement_of(results["features"][SIBLING])
    assert gate_of(results).exit_code == max(exit_code, SAID[sibling.disposition][2])
    assert results["gate"]["passes"] == (gate_of(results).exit_code == 0)
    assert results["certified"] == (not judgement.blocks_certification)


def strict_document(status: str, level: str, found: bool, gate: Reading, claim: str | None = None) -> dict[str, Any]:
    """``document()`` where the strict oracle found something in FEATURE's evidence (or nothing), gated on ``gate``."""
    results = sample_results()
    results["features"] = {
        FEATURE: feature(status, level, "streaming", f"the verdict is {status}"),
        SIBLING: feature("supported", "required", "streaming", "fine"),
    }
    if found:
        results["features"][FEATURE]["readings"] = {"strict": {"problems": [STRICT_PROBLEM]}}
    expectations = Expectations(supported=(FEATURE,) if claim == "supported" else ())
    return judge_document(results, expectations, TODAY, gate)


@pytest.mark.parametrize(
    ("status", "level", "found", "gate", "claim"),
    list(itertools.product([s.value for s in Status], ["required", "optional"], [False, True], Reading, CLAIMS)),
)
def test_both_readings_are_said_alike_everywhere(
    status: str, level: str, found: bool, gate: Reading, claim: str
) -> None:
    results = strict_document(status, level, found, gate, CLAIMS[claim])
    entry = results["features"][FEATURE]
    judgement = judgement_of(entry)
    assert judgement == judgement_of(entry, gate)  # the gate's reading is the one every front end maps
    junit, said_by_pytest, exit_code = SAID[judgement.disposition]
    assert junit_outcome(results, FEATURE) == junit
    assert pytest_outcome(results, FEATURE) == said_by_pytest
    assert gate_of(results).exit_code == exit_code  # the sibling always passes here
    assert results["gate"]["reading"] == gate.value and results["certified"] == (not judgement.blocks_certification)
    # the compatible reading never sees the strict findings; the strict one is never better
    compatible = strict_document(status, level, False, Reading.COMPATIBLE, CLAIMS[claim])
    assert judgement_of(entry, Reading.COMPATIBLE) == judgement_of(compatible["features"][FEATURE])
    strict = reading_status(entry, Reading.STRICT)
    assert strict is Status(status) or (found and strict is Status.NONCONFORMANT)
    if found and status in ("supported", "unsupported") and gate is Reading.STRICT:
        assert judgement.disposition is Disposition.FAIL and not results["certified"]


def test_strict_only_findings_never_fail_the_compatible_gate() -> None:
    results = strict_document("supported", "required", True, Reading.COMPATIBLE)
    assert gate_of(results).passes and results["certified"] is True
    assert results["readings"]["strict"]["gate"]["passes"] is False
    assert results["readings"]["strict"]["beyond_compatible"] == [FEATURE]
    assert gate_of(results, Reading.STRICT).failures == (
        f"{FEATURE}: nonconformant to OpenAI's published schemas (strict reading)",
    )


def test_a_known_failure_is_green_everywhere_and_never_certified() -> None:
    # before: exit 0, but junit.xml held a <failure> and pytest said xfail
    results = document("nonconformant", "required", None, KNOWN["exact"])
    assert gate_of(results).exit_code == 0 and results["certified"] is False
    assert junit_outcome(results, FEATURE) == "skipped"
    assert pytest_outcome(results, FEATURE) == "xfail"


def test_a_claimed_unsupported_feature_that_works_fails_everywhere() -> None:
    # before: exit 1, while junit.xml showed the test passing
    results = document("supported", "optional", "unsupported", None)
    assert gate_of(results).exit_code == 1
    assert junit_outcome(results, FEATURE) == "failure"
    assert pytest_outcome(results, FEATURE) == "failure"
    assert results["gate"]["failures"] == [f"{FEATURE}: claimed unsupported, works"]


def test_a_glob_excuses_its_failing_features_and_leaves_the_passing_ones_alone() -> None:
    # before: every passing feature under `chat.stream.*` was "stale" and failed the run
    results = document("nonconformant", "required", None, KNOWN["glob"])
    assert gate_of(results).passes and results["known_failing"]["stale"] == []
    assert judgement_of(results["features"][FEATURE]).disposition is Disposition.EXPECTED_FAIL
    assert judgement_of(results["features"][SIBLING]).disposition is Disposition.PASS
    assert junit_outcome(results, SIBLING) == "pass" and pytest_outcome(results, SIBLING) == "pass"


def test_a_glob_none_of_whose_features_fails_is_stale() -> None:
    results = document("supported", "required", None, KNOWN["glob"])
    assert results["known_failing"]["stale"] == [FEATURE, SIBLING]
    assert all("remove the stale entry" in line for line in results["gate"]["failures"])
    assert gate_of(results).exit_code == 1


def test_a_document_without_judgements_is_judged_the_same() -> None:
    # results.json files written before judgements were recorded still render and gate the same way
    judged = document("nonconformant", "required", "supported", KNOWN["exact"])
    bare = json.loads(json.dumps(judged))
    for entry in bare["features"].values():
        del entry["judgement"]
    assert gate_of(bare) == gate_of(judged)
    assert render_junit(bare) == render_junit(judged)


# --- end to end: `conformance run` and the pytest plugin on the same target ------------------------

CONFIG = """\
embedded_mock: true                # the claims below are about the reference mock
claims:
  unsupported: [chat.n]              # contradicted: the mock honours n
known_failing:
  - feature: "chat.stream.*"         # only done_sentinel fails under the quirk: the rest must pass
    reason: streaming rewrite in progress
"""
SELECTION = ["chat.stream", "chat.n", "models.list"]


def test_the_cli_and_the_plugin_agree_on_a_real_run(tmp_path: Path) -> None:
    config = tmp_path / "target.yaml"
    config.write_text(CONFIG)
    out = tmp_path / "cli"
    code = main(
        ["run", "--config", str(config), "--mock-quirk", "stream.done_missing", "--out", str(out), "--quiet"]
        + ["--select", *SELECTION]
    )
    cli = {c.get("name"): c for c in ET.parse(out / "junit.xml").iter("testcase")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "conformance.checks", "-p", "no:cacheprovider", "-q"]
        + ["--conformance-config", str(config), "--conformance-mock-quirk", "stream.done_missing"]
        + ["-k", " or ".join(SELECTION), "--junitxml", str(tmp_path / "pytest.xml")],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    plugin = {c.get("name"): c for c in ET.parse(tmp_path / "pytest.xml").iter("testcase")}
    assert set(plugin) == set(cli) and len(cli) > 10
    assert code == 1 and done.returncode == 1  # the contradicted claim
    for feature_id in cli:
        fails = {kind: cli[feature_id].find(kind) is not None for kind in ("failure", "error", "skipped")}
        failed_in_pytest = plugin[feature_id].find("failure") is not None
        assert failed_in_pytest == (fails["failure"] or fails["error"]), feature_id
        assert (plugin[feature_id].find("skipped") is not None) == fails["skipped"], feature_id
    assert cli["chat.n"].find("failure") is not None
    assert cli["chat.stream.done_sentinel"].find("skipped") is not None  # excused by the glob
