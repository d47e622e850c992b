"""What `conformance run` prints: the table, the failures in full, the summary; colour only on a
terminal (NO_COLOR, FORCE_COLOR); --quiet; the progress line. The console is a pure function of
results.json like every writer; the CLI tests run the real command against the embedded mock."""

from __future__ import annotations

import copy
import io
import re
from pathlib import Path
from typing import Any

import pytest

from conformance.catalog import load_catalog
from conformance.cli import Progress, main
from conformance.engine import FeatureResult
from conformance.policy import gate_of
from conformance.report.console import render_failures, render_summary, wants_colour
from conformance.verdict import Oracle, Outcome, Status, harness_error, nonconformant, skipped, unsupported
from tests.sample_results import docs_results, sample_results

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def with_stale_entry(results: dict[str, Any]) -> dict[str, Any]:
    """A document whose gate fails for a contradicted claim and a stale known-failing entry too."""
    changed = copy.deepcopy(results)
    changed["features"]["chat.basic"]["known_failing"] = {
        "pattern": "chat.basic",
        "reason": "was broken in 1.2",
        "state": "stale",
    }
    for feature in changed["features"].values():
        feature.pop("judgement", None)  # judged here, from claim and known-failing state (as older documents are)
    return changed


# --- the failures ----------------------------------------------------------------------------------


def test_every_reason_the_gate_fails_is_listed_in_full() -> None:
    results = with_stale_entry(docs_results())
    long_reason = "the stream ends without `data: [DONE]` " + "and keeps going " * 20 + "THE END"
    results["features"]["chat.stream.done_sentinel"]["reason"] = long_reason
    text = "\n".join(render_failures(results, width=100))
    flat = " ".join(text.split())  # as read, wrapping aside
    gate = gate_of(results)
    assert len(gate.failures) == 3
    for failure in gate.failures:
        feature_id, _, why = failure.partition(": ")
        assert f"\n  {feature_id}  " in text and why in flat
    # the contradicted claim and the stale entry, which once reached only results.json
    assert "claimed supported, broken" in flat
    assert "remove the stale entry (chat.basic: was broken in 1.2)" in flat
    assert "and keeps going " * 20 + "THE END" in flat + " " and "…" not in text  # full: wrapped, not clipped
    assert "fix: send data: [DONE]" in flat  # and the fix, from the troubleshooting entry
    assert max(len(line) for line in text.splitlines()) <= 100


def test_every_problem_is_listed_when_there_are_several() -> None:
    results = sample_results()
    feature = results["features"]["chat.stream.done_sentinel"]
    feature["problems"] = [{"oracle": "wire", "message": "first"}, {"oracle": "schema", "message": "second"}]
    text = "\n".join(render_failures(results))
    assert "- wire: first" in text and "- schema: second" in text


def test_a_reason_of_the_run_is_listed_as_it_is() -> None:
    results = sample_results()
    for feature in results["features"].values():
        feature["status"] = "supported"
    results["interrupted"] = True
    text = "\n".join(render_failures(results))
    assert "Failures (1)" in text and "run: interrupted" in text


def test_known_failures_pass_the_gate_and_are_still_listed() -> None:
    results = sample_results()
    results["features"]["chat.usage"]["status"] = "supported"
    results["features"]["chat.stream.done_sentinel"]["known_failing"] = {
        "pattern": "chat.stream.*",
        "reason": "fix in 2.0",
        "state": "still failing",
    }
    assert gate_of(results).passes
    text = "\n".join(render_failures(results))
    assert "Failures" not in text
    assert "Known failures (1)" in text and "chat.stream.done_sentinel: known failure: fix in 2.0" in text


def test_a_clean_run_lists_no_failures() -> None:
    results = sample_results()
    for feature in results["features"].values():
        feature["status"] = "supported"
    assert render_failures(results) == []
    assert "CI gate (compatible reading): passes" in render_summary(results)


# --- the summary, quiet, colour ----------------------------------------------------------------------


def test_quiet_is_the_summary_alone() -> None:
    results = sample_results()
    quiet = render_summary(results, files=["out/results.json"], quiet=True).splitlines()
    assert quiet == [
        "supported: 2  unsupported: 1  nonconformant: 1  skipped: 1  error: 1",
        "strict reading (OpenAI's published schemas): 1 more finding(s), not gating",
        "CI gate (compatible reading): fails, 2 reason(s)",
        "NOT CERTIFIED (compatible reading)",
        "wrote out/results.json",
    ]
    full = render_summary(results, files=["out/results.json"])
    assert full.endswith("\n".join(quiet[-1:])) and "feature " in full and "Failures (2)" in full
    # a security finding is never left out
    results["security_findings"] = [{"feature": "chat.basic", "finding": "answers without a key"}]
    assert "security: answers without a key (chat.basic)" in render_summary(results, quiet=True)


def test_colour_marks_verdicts_and_the_gate_and_nothing_else() -> None:
    results = sample_results()
    plain, coloured = render_summary(results), render_summary(results, colour=True)
    assert not ANSI.search(plain)
    assert ANSI.sub("", coloured) == plain  # the same text, the same alignment
    assert "\x1b[31;1mFAIL       \x1b[0m" in coloured and "\x1b[32mok         \x1b[0m" in coloured
    assert "\x1b[31;1mCI gate (compatible reading): fails" in coloured
    assert "\x1b[31;1mNOT CERTIFIED\x1b[0m" in coloured


@pytest.mark.parametrize(
    ("environ", "tty", "expected"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": "anything"}, True, False),
        ({"NO_COLOR": ""}, True, True),  # no-color.org: set and not empty
        ({"FORCE_COLOR": "1"}, False, True),
        ({"FORCE_COLOR": "0"}, True, True),  # "0" forces nothing: the terminal decides
        ({"FORCE_COLOR": "0"}, False, False),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),  # NO_COLOR wins
        ({"TERM": "dumb"}, True, False),
    ],
)
def test_when_there_is_colour(environ: dict[str, str], tty: bool, expected: bool) -> None:
    stream = Terminal() if tty else io.StringIO()
    assert wants_colour(stream, environ) is expected


# --- the command -------------------------------------------------------------------------------------


def run_quietly(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["run", "--select", "models", "--out", str(tmp_path / "out"), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_command_prints_the_table_the_failures_and_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    code, out, err = run_quietly(tmp_path, capsys)
    assert code == 0
    assert out.startswith("feature ") and "models.list" in out and "CI gate (compatible reading): passes" in out
    assert not ANSI.search(out + err)  # captured output is no terminal
    assert "[  5/5]" in err and "ok 5 fail 0 skip 0" in err  # the progress, plain lines


def test_quiet_prints_the_summary_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    code, out, err = run_quietly(tmp_path, capsys, "--quiet")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("supported: 5") and lines[2] == "CI gate (compatible reading): passes"
    assert lines[-1].startswith("wrote ") and len(lines) == 5 and "models.list" not in out


def test_force_color_colours_the_console_and_never_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    _, out, _ = run_quietly(tmp_path, capsys)
    assert "\x1b[32mok" in out
    written = [*(tmp_path / "out").iterdir(), summary]
    assert len(written) == 5
    for path in written:
        assert "\x1b[" not in path.read_text(encoding="utf-8"), path.name
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run_quietly(tmp_path, capsys)
    assert not ANSI.search(out)


# --- progress ----------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def feed(progress: Progress, clock: Clock, outcomes: list[Outcome], step: float = 2.0) -> None:
    features = list(load_catalog())[: len(outcomes)]
    for index, (feature, outcome) in enumerate(zip(features, outcomes, strict=True)):
        progress(index, len(outcomes), feature, None)
        clock.now += step
        progress(index + 1, len(outcomes), feature, FeatureResult(feature, outcome, step))


OUTCOMES = [
    Outcome(Status.SUPPORTED, "fine"),
    nonconformant("broken", Oracle.WIRE),
    skipped("no model"),
    unsupported("declined"),
    harness_error("could not decide"),
    Outcome(Status.SUPPORTED, "fine"),
]


def test_progress_off_a_terminal_is_plain_lines_with_elapsed_tally_and_eta() -> None:
    stream, clock = io.StringIO(), Clock()
    feed(Progress(stream, quiet=False, clock=clock), clock, OUTCOMES)
    lines = stream.getvalue().splitlines()
    assert all("\r" not in line for line in lines)
    assert lines[0] == f"[  0/6] 0:00 · ok 0 fail 0 skip 0 · {list(load_catalog())[0].area}"
    assert lines[-1] == "[  6/6] 0:12 · ok 2 fail 1 skip 3 · done"
    # the ETA is the mean time per feature so far times the features left: 2 s each
    progress = Progress(io.StringIO(), quiet=False, clock=clock)
    progress.tally = {"ok": 3, "fail": 0, "skip": 0}
    assert progress.status(3, 10, 6.0) == "[  3/10] 0:06 · ok 3 fail 0 skip 0 · ETA 0:14"


def test_progress_on_a_terminal_rewrites_one_line() -> None:
    stream, clock = Terminal(), Clock()
    feed(Progress(stream, quiet=False, clock=clock), clock, OUTCOMES[:3])
    text = stream.getvalue()
    assert "\n" not in text and text.count("\r") >= 6
    assert "[  2/3] 0:04 · ok 1 fail 1 skip 0 · ETA 0:02 · " in text


def test_progress_is_silent_when_quiet() -> None:
    stream, clock = Terminal(), Clock()
    feed(Progress(stream, quiet=True, clock=clock), clock, OUTCOMES)
    assert stream.getvalue() == ""
