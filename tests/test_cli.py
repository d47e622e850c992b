"""The command line, as users and scripts meet it (contract: docs/contracts.md#cli)."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conformance.capabilities import mock_models
from conformance.catalog import load_catalog
from conformance.cli import main
from conformance.mock.quirks import QUIRKS
from conformance.mock.server import MockServer

CLI = [sys.executable, "-m", "conformance"]


def test_run_against_the_embedded_mock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--out", str(tmp_path), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # --quiet leaves only the summary: no progress, no table
    assert "CERTIFIED" in out and "chat.stream.done_sentinel" not in out
    assert main(["run", "--out", str(tmp_path)]) == 0  # without it, the table and the run's size too
    out = capsys.readouterr().out
    assert "chat.stream.done_sentinel" in out and re.search(r"\d+ requests, \d+ completion tokens requested", out)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["summary"]["nonconformant"] == 0 and results["target"]["embedded_mock"] is True
    assert (tmp_path / "matrix.md").read_text().startswith("# OpenAI compatibility matrix")
    assert "<testsuite" in (tmp_path / "junit.xml").read_text()


def test_progress_shows_features_done_and_the_area(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # one feature at a time, so that an area starts once the one before it is done (under -j they overlap)
    main(["run", "--out", str(tmp_path), "--select", "models", "embeddings", "-j", "1"])
    err = capsys.readouterr().err
    catalog = load_catalog()
    models, total = len(catalog.select(["models"])), len(catalog.select(["models", "embeddings"]))
    # done of total, the time so far, the tally so far, then the area starting (the ETA once one is done)
    assert re.search(rf"\[\s*0/{total}\] 0:00 · ok 0 fail 0 skip 0 · models", err)
    assert re.search(rf"\[\s*{models}/{total}\] \d+:\d\d · ok {models} fail 0 skip 0 · ETA \d+:\d\d · embeddings", err)


def test_a_nonconformant_feature_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--out", str(tmp_path), "--quiet", "--mock-quirk", "stream.done_missing"])
    assert code == 1
    assert "NOT CERTIFIED" in capsys.readouterr().out


def test_a_security_finding_is_reported_apart_and_does_not_change_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--out", str(tmp_path), "--quiet", "--mock-quirk", "auth.not_enforced", "--select", "errors"])
    out = capsys.readouterr().out
    # a run of some features (--select) is partial, never certified; the findings change neither
    assert code == 0 and "PARTIAL: " in out and "NOT CERTIFIED" not in out
    results = json.loads((tmp_path / "results.json").read_text())
    findings = {item["feature"] for item in results["security_findings"]}
    assert findings == {"errors.auth.missing_key", "errors.auth.invalid_key"}
    assert "security: the server answers HTTP 200" in out
    assert "## Security findings" in (tmp_path / "matrix.md").read_text()


def test_an_honest_decline_exits_0_unless_the_feature_is_required(tmp_path: Path) -> None:
    # embeddings.dimensions is optional: declining it honestly is allowed
    assert main(["run", "--out", str(tmp_path), "--quiet", "--mock-quirk", "emb.dimensions_rejected"]) == 0
    assert (
        json.loads((tmp_path / "results.json").read_text())["features"]["embeddings.dimensions"]["status"]
        == "unsupported"
    )
    # ...ignoring it silently is not
    assert main(["run", "--out", str(tmp_path), "--quiet", "--mock-quirk", "emb.dimensions_ignored"]) == 1
    # embeddings.base64 is required: declining it fails certification
    assert main(["run", "--out", str(tmp_path), "--quiet", "--mock-quirk", "emb.base64_rejected"]) == 1


def test_the_api_key_never_leaves_the_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = "sk-conformance-secret-" + secrets.token_hex(16)
    with MockServer(api_key=key) as server:
        code = main(
            [
                "run",
                "--base-url",
                server.base_url,
                "--api-key",
                key,
                "--model",
                "mock-chat",
                "--embedding-model",
                "mock-embed",
                "--out",
                str(tmp_path),
            ]
        )
    out, err = capsys.readouterr()
    assert code == 0
    assert key not in out and key not in err
    files = list(tmp_path.rglob("*"))
    assert len(files) == 4  # results.json, matrix.md, junit.xml, report.html
    for path in files:
        text = path.read_text()
        assert key not in text, f"the key leaked into {path.name}"
        assert key[3:20] not in text
    assert "Bearer ***" in (tmp_path / "results.json").read_text()


def test_unreachable_target_is_one_line_and_exit_2() -> None:
    done = subprocess.run(
        [*CLI, "run", "--base-url", "http://127.0.0.1:1/v1", "--api-key", "x", "--model", "m"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "cannot reach http://127.0.0.1:1/v1" in done.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--base-url", "http://127.0.0.1:9/v1", "--api-key", "x"], "no chat model"),
        (["--base-url", "http://127.0.0.1:9/v1", "--model", "m"], "no API key"),
        (["--base-url", "localhost:8000/v1", "--api-key", "x", "--model", "m"], "http(s) URL"),
        (["--select", "no.such.feature"], "no feature matches"),
        (["--mock-quirk", "no.such.quirk"], "unknown quirk"),
        (["--config", "/nonexistent/target.yaml"], "cannot read target config"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["run", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_environment_fallbacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with MockServer(api_key="env-key-123") as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "env-key-123")
        assert main(["run", "--model", "mock-chat", "--out", str(tmp_path), "--quiet", "--select", "models"]) == 0
    # the environment, not a flag, chose the server: the first line says so
    assert capsys.readouterr().err.splitlines()[0].startswith(f"target: {server.base_url} (from OPENAI_BASE_URL")


def test_a_target_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with MockServer(api_key="cfg-key-123") as server:
        config = tmp_path / "target.yaml"
        models = "".join(f"  {capability}: {model}\n" for capability, model in mock_models().items())
        config.write_text(
            f"name: Config target\nbase_url: {server.base_url}\napi_key_env: VENDOR_KEY\nmodels:\n{models}"
        )
        monkeypatch.setenv("VENDOR_KEY", "cfg-key-123")
        assert main(["run", "--config", str(config), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["target"]["name"] == "Config target" and results["summary"]["skipped"] == 0


def test_mock_lists_its_quirks() -> None:
    done = subprocess.run([*CLI, "mock", "--list-quirks"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    listed = [line.split()[0] for line in done.stdout.splitlines()]
    assert listed == list(QUIRKS)


def test_mock_prints_its_base_url_first_and_serves() -> None:
    process = subprocess.Popen(
        [*CLI, "mock", "--port", "0", "--quirk", "error.string_error"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", base_url)
        answer = httpx.get(f"{base_url}/models", headers={"authorization": "Bearer wrong"}, timeout=10)
        assert answer.status_code == 401 and isinstance(answer.json()["error"], str)  # the quirk is on
        answer = httpx.get(f"{base_url}/models", headers={"authorization": "Bearer mock-api-key"}, timeout=10)
        assert answer.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_version() -> None:
    done = subprocess.run([*CLI, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("openai-conformance ")


def test_mock_lists_its_profiles_and_refuses_an_unknown_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mock", "--list-profiles"]) == 0
    out = capsys.readouterr().out
    assert "scaigrid" in out and "thegrid" in out and "flexai" in out
    assert main(["run", "--mock-profile", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown mock profile 'nope'" in capsys.readouterr().err
