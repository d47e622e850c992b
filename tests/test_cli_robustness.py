"""The command line never crashes (docs/contracts.md#cli: exit codes 2, 130 and 141).

Every mistake a newcomer makes is one line on stderr and exit 2; a reader that goes away
(`conformance coverage | head`) is a quiet exit 141; Ctrl-C is "conformance: interrupted" and exit
130, during the imports too, and in the middle of a run it keeps what was decided (partial reports).
Process-level failures (pipes, signals, imports) run the real command in a subprocess; the rest call
``conformance.cli.main``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conformance.catalog import Feature, load_catalog
from conformance.cli import main
from conformance.document import build_results
from conformance.embedded import embedded_target
from conformance.engine import NOT_RUN, Engine, FeatureResult
from conformance.policy import INTERRUPTED_FAILURE, gate_of
from conformance.report.results import validate_results
from conformance.verdict import Status
from tests.scripted import Request, Script, models_ok, send_json

CLI = [sys.executable, "-m", "conformance"]
ROOT = Path(__file__).resolve().parent.parent
TARGET = ["--api-key", "k", "--model", "m"]


def one_line(err: str) -> str:
    """The one line a failure prints (and that it is one, without a traceback)."""
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    return err.strip()


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """``main(argv)`` refused at parse time: exit 2 (argparse exits), one line."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    return one_line(capsys.readouterr().err)


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port nobody listens on while the block runs (bound, never listening: refused)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@pytest.fixture(autouse=True)
def _no_ambient_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture
def recording_target() -> Iterator[Script]:
    """A loopback server that answers GET /models and records every request (none must come)."""
    with Script({("GET", "/v1/models"): models_ok}) as script:
        yield script


# --- numbers, checked when parsed ------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "--timeout", "-1"], "argument --timeout: must be above 0 and at most 86400 seconds, got -1"),
        (["run", "--timeout", "0"], "argument --timeout: must be above 0"),
        (["run", "--timeout", "nan"], "argument --timeout: must be above 0"),
        (["run", "--timeout", "inf"], "argument --timeout: must be above 0"),
        (["run", "--timeout", "1e12"], "argument --timeout: must be above 0"),
        (["run", "--timeout", "soon"], "argument --timeout: expected a number of seconds, got 'soon'"),
        (["run", "--trials", "0"], "argument --trials: must be at least 1, got 0"),
        (["run", "--trials", "two"], "argument --trials: expected a whole number, got 'two'"),
        (["run", "--mock-seed", "1.5"], "argument --mock-seed: expected a whole number"),
        (["mock", "--port", "80000"], "argument --port: must be from 0 to 65535, got 80000"),
        (["mock", "--port", "-1"], "argument --port: must be from 0 to 65535, got -1"),
        (["mock", "--seed", "x"], "argument --seed: expected a whole number"),
    ],
)
def test_a_bad_number_is_refused_when_parsed(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = usage_error(argv, capsys)
    assert line.startswith(f"conformance {argv[0]}: ") and message in line
    assert line.endswith(f"(see conformance {argv[0]} --help)")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "--select"], "argument --select: expected at least one argument"),
        (["run", "--gate", "lenient"], "argument --gate: invalid choice: 'lenient'"),
        (["run", "--no-such-option"], "unrecognized arguments: --no-such-option"),
        ([], "the following arguments are required: command"),
    ],
)
def test_every_usage_error_is_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert message in usage_error(argv, capsys)


def test_a_valid_timeout_still_parses() -> None:
    from conformance.cli import build_parser

    args = build_parser().parse_args(["run", "--timeout", "0.5", "--trials", "2", "--mock-seed", "-3"])
    assert (args.timeout, args.trials, args.mock_seed) == (0.5, 2, -3)


# --- --out, checked before anything is sent --------------------------------------------------------


def test_out_that_is_a_file_is_refused_before_a_request(
    tmp_path: Path, recording_target: Script, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results"
    out.write_text("not a directory")
    assert main(["run", "--base-url", recording_target.base_url, *TARGET, "--out", str(out)]) == 2
    assert one_line(capsys.readouterr().err) == f"conformance: --out {out} is a file, not a directory"
    assert recording_target.requests == []  # nothing was sent: no run to lose


def test_out_under_a_file_is_refused_before_a_request(
    tmp_path: Path, recording_target: Script, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    out = tmp_path / "file" / "reports"
    assert main(["run", "--base-url", recording_target.base_url, *TARGET, "--out", str(out)]) == 2
    assert one_line(capsys.readouterr().err) == f"conformance: cannot write to --out {out}: Not a directory"
    assert recording_target.requests == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes to a read-only directory")
def test_an_unwritable_out_is_refused_before_a_request(
    tmp_path: Path, recording_target: Script, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        assert main(["run", "--base-url", recording_target.base_url, *TARGET, "--out", str(locked / "o")]) == 2
    finally:
        locked.chmod(0o700)
    assert "Permission denied" in one_line(capsys.readouterr().err)
    assert recording_target.requests == []


def test_checking_out_leaves_no_directory_behind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "new" / "deeper"
    with closed_port() as port:
        assert main(["run", "--base-url", f"http://127.0.0.1:{port}/v1", *TARGET, "--out", str(out)]) == 2
    assert "connection refused" in one_line(capsys.readouterr().err)
    assert not (tmp_path / "new").exists()


# --- the mock's port ------------------------------------------------------------------------------


def test_mock_on_a_port_in_use_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["mock", "--port", str(port)]) == 2
    assert (
        one_line(capsys.readouterr().err) == f"conformance: cannot listen on 127.0.0.1:{port}: Address already in use"
    )


# --- what a newcomer mistypes ---------------------------------------------------------------------


def test_newcomer_mistakes_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "list.yaml").write_text("- base_url\n- models\n")
    (tmp_path / "broken.yaml").write_text("base_url: [\n")
    (tmp_path / "other.json").write_text('{"hello": "world"}')
    (tmp_path / "not.json").write_text("hello")
    (tmp_path / "file").write_text("")
    cases: list[tuple[list[str], str]] = [
        (["run", "--config", str(tmp_path / "missing.yaml")], "cannot read target config"),
        (["run", "--config", str(tmp_path)], "cannot read target config"),
        (["run", "--config", str(tmp_path / "list.yaml")], "must be a mapping"),
        (["run", "--config", str(tmp_path / "broken.yaml")], "is not valid YAML"),
        (["run", "--select", "no.such.area"], "no feature matches"),
        (["run", "--base-url", "http://[::1/v1", *TARGET], "is not a valid URL: Invalid IPv6 URL"),
        (["run", "--base-url", "http://127.0.0.1:99999/v1", *TARGET], "is not a valid URL: Port out of range"),
        (["run", "--base-url", "http://127.0.0.1:1/v1", "--api-key", "clé", "--model", "m"], "printable ASCII"),
        (["docs", str(tmp_path / "other.json"), "--out", str(tmp_path / "d")], "not a results.json"),
        (["docs", str(tmp_path / "not.json"), "--out", str(tmp_path / "d")], "cannot read"),
        (["docs", str(tmp_path), "--out", str(tmp_path / "d")], "cannot read"),
        (["sdk", "diff", "nope", "nope"], "no surface 'nope'"),
        (["sdk", "surface", "--out", str(tmp_path / "file")], "File exists"),
        (["mock", "--profile", "nope"], "unknown mock profile 'nope'"),
        (["mock", "--quirk", "nope"], "unknown quirk"),
        (["troubleshooting", "--update-readme", str(tmp_path)], "Is a directory"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        line = one_line(capsys.readouterr().err)
        assert line.startswith("conformance: ") and message in line, (argv, line)


def test_a_refused_port_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with closed_port() as port:
        argv = ["run", "--base-url", f"http://127.0.0.1:{port}/v1", *TARGET, "--out", str(tmp_path)]
        assert main(argv) == 2
    line = one_line(capsys.readouterr().err)
    assert line == f"conformance: cannot reach http://127.0.0.1:{port}/v1: connection refused"


# --- a reader that goes away ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["coverage"], ["coverage", "--json"], ["mock", "--list-quirks"], ["troubleshooting"]],
    ids=" ".join,
)
def test_a_closed_pipe_is_a_quiet_exit_141(argv: list[str]) -> None:
    """`conformance coverage | head`, with the reader gone before the first byte: deterministic, as
    nobody holds the pipe's read end."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([*CLI, *argv], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert done.stderr == "" and done.returncode == 141


# --- Ctrl-C ---------------------------------------------------------------------------------------


# A real SIGINT, sent by the process to itself at a known point of the imports: when it first looks
# for the openai package (the slow import), well before conformance.cli has finished importing.
SIGINT_ON_IMPORT = """\
import os, signal, sys

class _InterruptOnImport:
    def find_spec(self, name, path=None, target=None):
        if name == "openai":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, _InterruptOnImport())
"""


def interrupted_while_importing(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "sitecustomize.py").write_text(SIGINT_ON_IMPORT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)


def test_ctrl_c_while_importing_python_m(tmp_path: Path) -> None:
    done = interrupted_while_importing([*CLI, "coverage"], tmp_path)
    assert (done.returncode, done.stderr, done.stdout) == (130, "conformance: interrupted\n", "")


def test_ctrl_c_while_importing_the_console_script(tmp_path: Path) -> None:
    """The console script pyproject.toml declares, called as pip's generated script calls it."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, function = scripts["conformance"].split(":")
    script = f"import sys\nfrom {module} import {function}\nsys.exit({function}())\n"
    done = interrupted_while_importing([sys.executable, "-c", script, "coverage"], tmp_path)
    assert (done.returncode, done.stderr, done.stdout) == (130, "conformance: interrupted\n", "")


def test_ctrl_c_right_after_the_mock_prints_its_url() -> None:
    """A script reads the base URL and stops the mock at once: whichever instant the signal lands in
    (before or after uvicorn took over SIGINT), no traceback and no "Exception ignored"."""
    process = subprocess.Popen([*CLI, "mock"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("http://127.0.0.1:")
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode in (0, 130), stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr and "Warning" not in stderr


ANSWERED_BEFORE_STALLING = 4


def test_ctrl_c_mid_run_writes_the_partial_results(tmp_path: Path) -> None:
    """A target that answers a few requests, then holds the next one: the features before are decided,
    Ctrl-C lands in the one in flight, and the reports are written with the rest not run."""
    stalled = threading.Event()
    answered: list[Request] = []

    def decline_then_stall(script: Script, request: Request, wfile: Any) -> None:
        if len(answered) < ANSWERED_BEFORE_STALLING:
            answered.append(request)
            error = {"message": "not here", "type": "invalid_request_error", "param": None, "code": None}
            send_json(wfile, 404, {"error": error})
            return
        stalled.set()
        script.wait(600)  # until the test stops the server

    out = tmp_path / "out"
    routes = {("GET", "/v1/models"): models_ok, ("*", "*"): decline_then_stall}
    with Script(routes) as script:
        # one feature at a time: "the features before" the stalled one are then a fixed set (under -j,
        # a verdict reached while others ran waits to be confirmed alone, and Ctrl-C leaves it not run)
        argv = ["run", "--base-url", script.base_url, *TARGET, "--select", "models", "chat", "--out", str(out)]
        argv += ["-j", "1"]
        process = subprocess.Popen([*CLI, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert stalled.wait(120), "the run never reached the stalling request"
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("conformance: interrupted: ") and f"partial results in {out}" in last
    results = json.loads((out / "results.json").read_text())
    validate_results(results)  # the shipped schema
    assert results["interrupted"] is True and results["certified"] is False
    assert all(not reading["certified"] for reading in results["readings"].values())
    not_run = [i for i, f in results["features"].items() if f["reason"] == NOT_RUN]
    decided = [i for i, f in results["features"].items() if f["reason"] != NOT_RUN]
    assert not_run and decided
    assert all(results["features"][i]["status"] == "skipped" for i in not_run)
    assert {"models.list", "models.list.includes_configured"} <= set(decided)
    assert f"{len(decided)} of {len(results['features'])} features decided" in last
    gate = gate_of(results)
    assert not gate.passes and not gate.certified and INTERRUPTED_FAILURE in gate.failures
    assert INTERRUPTED_FAILURE in results["gate"]["failures"]
    assert INTERRUPTED_FAILURE in stdout  # the console's list of what fails the gate says so
    assert not any(line.startswith("CERTIFIED") for line in stdout.splitlines())
    for name in ("matrix.md", "junit.xml", "report.html"):
        assert (out / name).exists()


def test_an_interrupted_run_certifies_nothing_even_when_all_it_decided_passed() -> None:
    """The engine's side, in process: Ctrl-C at a feature boundary (raised where the progress callback
    runs) against the clean mock. Everything decided passes; only the interruption fails the run."""
    catalog = load_catalog()

    def interrupt_after_ten(done: int, total: int, feature: Feature, result: FeatureResult | None) -> None:
        if result is not None and done == 10:
            raise KeyboardInterrupt

    with embedded_target() as target, Engine(target, catalog, progress=interrupt_after_ten) as engine:
        run = engine.run()
    assert run.interrupted and len(run.results) == len(catalog.features)
    decided = {i: r for i, r in run.results.items() if r.outcome.reason != NOT_RUN}
    assert len(decided) == 10
    assert {r.outcome.status for r in decided.values()} <= {Status.SUPPORTED, Status.SKIPPED}
    results = build_results(run, catalog)
    validate_results(results)
    assert results["interrupted"] is True and results["certified"] is False
    assert results["gate"]["passes"] is False and results["gate"]["failures"] == [INTERRUPTED_FAILURE]
    assert gate_of(results).failures == (INTERRUPTED_FAILURE,)
