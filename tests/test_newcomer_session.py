"""A vendor's first hour, scripted: the real command, the mistakes newcomers make, one line each.

One session against a server on loopback (the reference mock standing in for the vendor's endpoint):
a target file with the typos people type, the base URL without /v1 and with /chat/completions
appended, a model the server does not serve, a subset run, and Ctrl-C in the middle of a run. Each
step asserts the exit code and the one line that says what to fix; none may print a traceback, and
none may say "certified" about something it did not measure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from conformance.mock.server import MockServer
from tests.scripted import Request, Script, models_ok, send_json

KEY = "sk-vendor-newcomer-0123456789"
CLI = [sys.executable, "-m", "conformance"]


def conformance(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")} | {"VENDOR_KEY": KEY}
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    assert lines, done.stdout
    return lines[-1]


def target_file(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_newcomers_first_hour(tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    with MockServer(api_key=KEY) as server:
        root = server.origin  # where the vendor's API lives, without /v1
        config = tmp_path / "target.yaml"

        # 1. the typos people type: each named, with the key they meant, and nothing is run
        for typed, meant in (("base-url", "base_url"), ("model", "models"), ("know_failing", "known_failing")):
            target_file(
                config,
                f"base_url: {server.base_url}\napi_key_env: VENDOR_KEY\nmodels: {{chat: mock-chat}}\n{typed}: x\n",
            )
            done = conformance("run", "--config", str(config), "--out", out, cwd=tmp_path)
            assert done.returncode == 2, done.stderr
            assert f"unknown key '{typed}' (did you mean '{meant}'?)" in last_line(done)
            assert not (tmp_path / "out" / "results.json").exists()

        # 2. a target file without a base URL does not quietly certify the embedded mock
        target_file(config, "api_key_env: VENDOR_KEY\nmodels: {chat: mock-chat}\n")
        done = conformance("run", "--config", str(config), "--out", out, cwd=tmp_path)
        assert done.returncode == 2 and "has no base_url" in last_line(done)

        # 3. the base URL without /v1, and with /chat/completions appended: stop with the fix
        for wrong in (root, f"{server.base_url}/chat/completions"):
            target_file(config, f"base_url: {wrong}\napi_key_env: VENDOR_KEY\nmodels: {{chat: mock-chat}}\n")
            done = conformance("run", "--config", str(config), "--out", out, cwd=tmp_path)
            assert done.returncode == 2, done.stderr
            line = last_line(done)
            assert line.startswith("conformance: wrong base URL") and f"Fix: base URL {server.base_url}" in line

        # 4. a chat model the server does not serve: stop, saying what was seen
        target_file(config, f"base_url: {server.base_url}\napi_key_env: VENDOR_KEY\nmodels: {{chat: gpt-4o}}\n")
        done = conformance("run", "--config", str(config), "--out", out, cwd=tmp_path)
        assert done.returncode == 2 and "chat model 'gpt-4o' is not served" in last_line(done)

        # 5. right at last, but only the models area: partial, never certified, everywhere
        target_file(config, f"base_url: {server.base_url}\napi_key_env: VENDOR_KEY\nmodels: {{chat: mock-chat}}\n")
        done = conformance("run", "--config", str(config), "--select", "models", "--out", out, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert any(line.startswith("PARTIAL: ") for line in done.stdout.splitlines()), done.stdout
        assert not any(line.startswith("CERTIFIED") for line in done.stdout.splitlines())
        results = json.loads((tmp_path / "out" / "results.json").read_text())
        assert results["certified"] is False and results["selection"]["partial"] is True

        # 6. a mistyped pattern among valid ones is an error, not silently dropped
        done = conformance(
            "run", "--config", str(config), "--select", "models", "chat.bsaic", "--out", out, cwd=tmp_path
        )
        assert done.returncode == 2 and "chat.bsaic" in last_line(done) and "did you mean" in last_line(done)


def test_ctrl_c_in_the_middle_of_a_newcomers_run(tmp_path: Path) -> None:
    # 7. the run is slow and the newcomer presses Ctrl-C: what was decided is kept, the rest is not run
    stalled = threading.Event()
    answered: list[Request] = []

    def answer_a_few_then_stall(script: Script, request: Request, wfile: Any) -> None:
        if len(answered) < 3:
            answered.append(request)
            error = {"message": "not here", "type": "invalid_request_error", "param": None, "code": None}
            send_json(wfile, 404, {"error": error})
            return
        stalled.set()
        script.wait(600)

    config = target_file(tmp_path / "target.yaml", "api_key_env: VENDOR_KEY\nmodels: {chat: m}\n")
    with Script({("GET", "/v1/models"): models_ok, ("*", "*"): answer_a_few_then_stall}) as script:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")} | {"VENDOR_KEY": KEY}
        argv = ["run", "--config", str(config), "--base-url", script.base_url, "--out", str(tmp_path / "out")]
        process = subprocess.Popen(
            [*CLI, *argv, "--force"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        try:
            assert stalled.wait(120), "the run never reached the stalling request"
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 130 and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("conformance: interrupted: ")
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["interrupted"] is True and results["certified"] is False
