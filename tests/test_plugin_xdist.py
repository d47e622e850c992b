"""The checks under pytest-xdist (``pytest -n 2 --pyargs conformance.checks``): still one run.

Each xdist worker is a process with its own engine, so the plugin keeps every check on one worker,
in run order, while the session's other tests spread over the rest. These tests run the plugin with
and without ``-n 2`` and compare, feature by feature: the pytest outcome, the verdict, and the
requests the run sent (a shared request sent once per worker, or a run-wide feature judging one
worker's share, would show there).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.catalog import load_catalog
from conformance.mock.quirks import QUIRKS

# what the run-wide features judge (a redirect to another origin met by the embeddings checks, a 429
# without Retry-After), and a stream several features share
QUIRKS_UNDER_TEST = ("path.redirect_cross_origin", "rl.retry_after_missing", "stream.done_missing")
OWN_TEST_COUNT = 8  # the vendor's own tests, in the same session

pytestmark = pytest.mark.plumbing  # the SDK-line sessions leave it out (.ci/run)


@dataclass(frozen=True)
class Session:
    """One pytest session of the checks: what it printed, and what it wrote."""

    done: subprocess.CompletedProcess[str]
    out: Path  # --conformance-out: results.json and the conformance reports
    junit: Path  # pytest's own --junitxml (the reports in ``out`` have a junit.xml of their own)

    @property
    def outcomes(self) -> dict[str, str]:
        """Each test's pytest outcome, by name (a check's name is its feature ID)."""
        found: dict[str, str] = {}
        for case in ElementTree.parse(self.junit).getroot().iter("testcase"):
            marks = {child.tag: child for child in case}
            if "failure" in marks or "error" in marks:
                found[case.get("name", "")] = "failed"
            elif "skipped" in marks:
                xfail = marks["skipped"].get("type") == "pytest.xfail"
                found[case.get("name", "")] = "xfailed" if xfail else "skipped"
            else:
                found[case.get("name", "")] = "passed"
        return found

    @property
    def results(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((self.out / "results.json").read_text(encoding="utf-8"))
        return document

    @property
    def verdicts(self) -> dict[str, str]:
        return {feature_id: feature["status"] for feature_id, feature in self.results["features"].items()}

    @property
    def workers(self) -> dict[str, str]:
        """Which xdist worker ran each test (``[gw0] [ 12%] PASSED chat.py::chat.basic``), in the order run."""
        lines = re.findall(r"^\[(gw\d+)\] \[[ \d]+%\] [A-Z]+ (\S+)", self.done.stdout, re.MULTILINE)
        return {nodeid.split("::")[-1]: worker for worker, nodeid in lines}

    def says(self) -> str:
        return self.done.stdout[-4000:] + self.done.stderr[-2000:]


def pytest_session(directory: Path, name: str, *args: str) -> Session:
    """Run the checks and ``own_tests/`` (the vendor's own tests) in ``directory``."""
    out, junit = directory / name, directory / f"{name}-pytest.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "--junitxml", str(junit)]
        + ["--conformance-out", str(out), "--pyargs", "conformance.checks", "own_tests", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=directory,
    )
    return Session(done, out, junit)


def vendor_project(tmp_path: Path, seconds_each: float = 0.0) -> Path:
    """A project with ``OWN_TEST_COUNT`` tests of its own, each taking ``seconds_each``."""
    own = tmp_path / "own_tests"
    own.mkdir()
    tests = [f"def test_own_{n}():\n    time.sleep({seconds_each})\n" for n in range(OWN_TEST_COUNT)]
    (own / "test_vendor.py").write_text("import time\n\n\n" + "\n\n".join(tests))
    return tmp_path


def assert_one_run_on_one_worker(session: Session) -> None:
    catalog = load_catalog()
    workers = session.workers
    checks = {feature_id: worker for feature_id, worker in workers.items() if feature_id in catalog.features}
    assert len(checks) == len(catalog), session.says()
    assert len(set(checks.values())) == 1, checks  # every check on one worker...
    assert {workers[f"test_own_{n}"] for n in range(OWN_TEST_COUNT)} - set(checks.values())  # ...the rest elsewhere too
    ran = list(workers)  # in run order: the run-wide features after every other check
    run_wide = [feature.id for feature in catalog if feature.observes_run]
    assert all(ran.index(late) > ran.index(f) for late in run_wide for f in checks if f not in run_wide)


def assert_the_same_run(alone: Session, spread: Session) -> None:
    """Feature by feature the same pytest outcome and verdict, and the same requests sent (a shared
    request sent once per worker, or a second engine, would send more)."""
    assert spread.outcomes == alone.outcomes
    assert spread.verdicts == alone.verdicts
    assert spread.results["requests"] == alone.results["requests"]


def test_on_the_clean_mock_every_check_passes_on_one_worker_as_without_xdist(tmp_path: Path) -> None:
    project = vendor_project(tmp_path)
    alone = pytest_session(project, "alone")
    spread = pytest_session(project, "xdist", "-n", "2")
    assert alone.done.returncode == spread.done.returncode == 0, spread.says()
    assert "OneConformanceRun" in spread.done.stdout  # the plugin's scheduling
    assert_one_run_on_one_worker(spread)
    assert set(spread.outcomes.values()) == {"passed"}
    assert_the_same_run(alone, spread)


def test_with_quirks_the_same_features_fail_as_without_xdist(tmp_path: Path) -> None:
    project = vendor_project(tmp_path)
    quirks = [arg for quirk in QUIRKS_UNDER_TEST for arg in ("--conformance-mock-quirk", quirk)]
    alone = pytest_session(project, "alone", *quirks)
    # --dist loadfile: the plugin keeps the checks together whatever xdist's unit of work
    spread = pytest_session(project, "xdist", "-n", "2", "--dist", "loadfile", *quirks)
    assert alone.done.returncode == spread.done.returncode == 1, spread.says()
    assert_one_run_on_one_worker(spread)
    assert_the_same_run(alone, spread)
    detected = {feature for quirk in QUIRKS_UNDER_TEST for feature in QUIRKS[quirk].detects}
    assert {feature for feature, outcome in spread.outcomes.items() if outcome == "failed"} == detected
    assert {"http.redirect.same_origin", "errors.rate_limit"} <= detected  # run-wide features among them


def test_the_budget_under_xdist_is_the_whole_runs(tmp_path: Path) -> None:
    project = vendor_project(tmp_path)
    budget = ("--conformance-max-requests", "40", "--conformance-max-completion-tokens", "900")
    alone = pytest_session(project, "alone", *budget)
    spread = pytest_session(project, "xdist", "-n", "2", *budget)
    assert alone.done.returncode == spread.done.returncode == 0, spread.says()
    run = spread.results
    assert run["requests"] <= 40 and run["completion_tokens_requested"] <= 900  # in total, not per worker
    assert run["budget"]["skipped_for_budget"] == alone.results["budget"]["skipped_for_budget"] != []
    assert_the_same_run(alone, spread)


@pytest.mark.parametrize("own_seconds", [0.0, 0.5])
def test_a_run_is_not_resumed_on_another_worker_after_a_crash(tmp_path: Path, own_seconds: float) -> None:
    # The checks' worker dies mid-run (once). xdist gives the rest of the checks to a replacement, or,
    # while the other worker is still busy with the project's own (slower) tests, to that one. Neither
    # may start a second run (twice the budget, run-wide features blind to the first half) or pass
    # anything it did not decide.
    project = vendor_project(tmp_path, own_seconds)
    (project / "crash_once.py").write_text(
        "import os\nfrom pathlib import Path\n\n"
        "def pytest_runtest_call(item):\n"
        "    if item.name == 'chat.messages.developer' and os.environ.get('PYTEST_XDIST_WORKER'):\n"
        "        marker = Path(__file__).with_name('crashed')\n"
        "        if not marker.exists():\n"
        "            marker.write_text(os.environ['PYTEST_XDIST_WORKER'])\n"
        "            os._exit(3)\n"
    )
    session = pytest_session(project, "xdist", "-n", "2", "-p", "crash_once", "--conformance-max-requests", "60")
    done = session.done
    assert done.returncode == 1, session.says()
    crashed = (project / "crashed").read_text()
    assert f"worker '{crashed}' crashed while running" in done.stdout
    order = list(load_catalog().features)
    after = set(order[order.index("chat.messages.developer") + 1 :])
    ran_after = {feature: worker for feature, worker in session.workers.items() if feature in after}
    assert ran_after and crashed not in ran_after.values()
    assert set(session.outcomes[feature] for feature in after) <= {"failed", "skipped"}  # error: never a pass
    assert f"not run: the run began on pytest-xdist worker {crashed}, which stopped mid-run" in done.stdout
    assert not (session.out / "results.json").exists()  # no run finished: no report claims one


def test_a_dist_mode_that_cannot_keep_the_checks_together_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "conformance.checks"]
        + ["-n", "2", "--dist", "each"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 4, done.stdout + done.stderr  # pytest's usage error
    assert "--dist each cannot keep the conformance checks on one worker" in done.stdout + done.stderr


def test_a_worker_the_controller_did_not_give_the_checks_decides_none_of_them(tmp_path: Path) -> None:
    # The controller keeps the checks together only when it sees them at start-up. Without its side of
    # the plugin (switched off here by name), the checks land on any worker: each worker refuses them
    # rather than give a split run's verdicts.
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rfs", "--pyargs", "conformance.checks"]
        + ["-k", "models", "-n", "2", "-p", "no:conformance-one-worker"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert " passed" not in done.stdout.splitlines()[-1]
    assert "the checks must stay on one worker" in done.stdout
