"""The reusable workflow ``.github/workflows/conformance-matrix.yml``: its job graph, its matrix of
targets x SDK lines, and its handling of keys, read from the file; then its scripts run here as GitHub
runs them (each step's ``run`` under bash, its ``env`` filled in as the expressions would fill it),
against reference mocks on free loopback ports.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.embedded import embedded_target
from conformance.target import Target
from tests.conftest import TEST_TIMEOUTS

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "conformance-matrix.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 reads the key `on` as true; GitHub reads it as "on"
    document["on"] = document.pop(True)
    return document


def step(job: dict[str, Any], step_id: str | None = None, *, uses: str | None = None) -> dict[str, Any]:
    for candidate in job["steps"]:
        if (step_id is not None and candidate.get("id") == step_id) or (
            uses and candidate.get("uses", "").startswith(uses)
        ):
            return dict(candidate)
    raise LookupError(step_id or uses)


def scripts(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_name, job in workflow["jobs"].items():
        for index, candidate in enumerate(job["steps"]):
            if "run" in candidate:
                yield f"{job_name}[{index}]", candidate


# --- the file ------------------------------------------------------------------------------------------


def test_it_is_a_reusable_workflow_with_the_documented_inputs(workflow: dict[str, Any]) -> None:
    call = workflow["on"]["workflow_call"]
    assert list(workflow["on"]) == ["workflow_call"]
    assert call["inputs"]["targets-file"]["required"] is True
    assert json.loads(call["inputs"]["sdk-lines"]["default"]) == ["3.54.0"]
    assert {"python-version", "args"} <= set(call["inputs"])
    assert call["secrets"]["OPENAI_API_KEY"]["required"] is False
    assert workflow["permissions"] == {"contents": "read"}
    readme = (ROOT / "README.md").read_text()
    assert "uses: OWNER/openai-conformance/.github/workflows/conformance-matrix.yml@main" in readme


def test_the_job_graph_lists_the_targets_runs_each_then_merges(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    assert list(jobs) == ["targets", "run", "comparison"]
    assert jobs["run"]["needs"] == "targets"
    assert set(jobs["comparison"]["needs"]) == {"targets", "run"}
    # the merge runs when some runs fail (a failing gate is a failed job), not when there is nothing to merge
    assert jobs["comparison"]["if"] == "${{ always() && needs.targets.result == 'success' }}"
    assert jobs["targets"]["outputs"]["targets"] == "${{ steps.list.outputs.targets }}"


def test_the_matrix_is_every_target_times_every_sdk_line(workflow: dict[str, Any]) -> None:
    run = workflow["jobs"]["run"]
    assert run["strategy"]["fail-fast"] is False  # one target's failure must not cancel the others
    assert run["strategy"]["matrix"] == {
        "target": "${{ fromJSON(needs.targets.outputs.targets) }}",
        "sdk": "${{ fromJSON(inputs.sdk-lines) }}",
    }
    install = next(s for s in run["steps"] if "SDK_LINE" in (s.get("env") or {}))
    assert install["env"]["SDK_LINE"] == "${{ matrix.sdk }}" and '"openai==$SDK_LINE"' in install["run"]
    checks = step(run, "run")
    assert checks["env"]["TARGET_NAME"] == "${{ matrix.target.name }}"
    assert '--target "$TARGET_NAME"' in checks["run"] and '--config "$TARGETS_FILE"' in checks["run"]
    upload = step(run, uses="actions/upload-artifact@")
    assert upload["if"] == "always()"  # a failing gate still leaves its results
    assert upload["with"]["name"] == "conformance-results-${{ matrix.target.slug }}-openai-${{ matrix.sdk }}"
    merge = workflow["jobs"]["comparison"]
    download = step(merge, uses="actions/download-artifact@")
    assert download["with"]["pattern"] == "conformance-results-*"
    # the merged page's artifact is not one the pattern downloads, should the job run again
    assert not step(merge, uses="actions/upload-artifact@")["with"]["name"].startswith("conformance-results-")


def test_no_secret_reaches_a_script_but_through_its_environment(workflow: dict[str, Any]) -> None:
    for where, candidate in scripts(workflow):
        # values from outside never become script text (a target named `$(curl ...)` stays a name)
        assert "${{" not in candidate["run"], where
        assert "set -x" not in candidate["run"], where
        secret_variables = [name for name, value in (candidate.get("env") or {}).items() if "secrets" in str(value)]
        for line in candidate["run"].splitlines():
            if re.search(r"\b(echo|printf|cat|tee)\b", line):
                assert not any(f"${name}" in line or f"${{{name}}}" in line for name in secret_variables), (where, line)
    for job in workflow["jobs"].values():
        for candidate in job["steps"]:
            if "run" not in candidate:
                assert "secrets" not in json.dumps(candidate.get("with") or {})  # no key handed to an action
    checks = step(workflow["jobs"]["run"], "run")
    assert checks["env"]["TARGET_KEY"] == "${{ secrets[matrix.target.api_key_env] }}"
    assert "unset TARGET_KEY" in checks["run"]


# --- its scripts, run ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mocks() -> Iterator[tuple[Target, Target]]:
    with (
        embedded_target(timeouts=TEST_TIMEOUTS) as clean,
        embedded_target(quirks=["stream.done_missing"], timeouts=TEST_TIMEOUTS) as quirky,
    ):
        yield clean, quirky


def filled(text: str, values: dict[str, str]) -> str:
    """``text`` with its ``${{ expression }}`` parts replaced as GitHub would, for the expressions in ``values``."""
    return EXPRESSION.sub(lambda match: values[match.group(1)], text)


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    full = {**os.environ, "PATH": path}
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
        full.pop(name, None)
    full.update(env)
    # as GitHub runs a `run:` step: bash --noprofile --norc -eo pipefail
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_scripts_list_run_and_merge_as_github_would(
    workflow: dict[str, Any], tmp_path: Path, mocks: tuple[Target, Target]
) -> None:
    clean, quirky = mocks
    (tmp_path / "compat").mkdir()
    (tmp_path / "compat" / "targets.yaml").write_text(
        "targets:\n"
        f"  - name: Clean\n    base_url: {clean.base_url}\n    api_key_env: CLEAN_VENDOR_KEY\n"
        "    models: {chat: mock-chat}\n"
        f"  - name: Quirky $(id)\n    base_url: {quirky.base_url}\n    api_key_env: QUIRKY_VENDOR_KEY\n"
        "    models: {chat: mock-chat}\n"
    )
    secrets = {"CLEAN_VENDOR_KEY": clean.api_key.reveal(), "QUIRKY_VENDOR_KEY": quirky.api_key.reveal()}
    inputs = {
        "targets-file": "compat/targets.yaml",
        "sdk-lines": '["3.54.0", "2.54.0"]',
        "args": "--select models.list chat.stream.done_sentinel",
    }
    jobs = workflow["jobs"]

    listing = step(jobs["targets"], "list")
    output = tmp_path / "github_output"
    done = bash(listing["run"], tmp_path, {"TARGETS_FILE": inputs["targets-file"], "GITHUB_OUTPUT": str(output)})
    assert done.returncode == 0, done.stderr
    name, _, value = output.read_text().strip().partition("=")
    targets = json.loads(value)
    assert name == "targets" and [t["name"] for t in targets] == ["Clean", "Quirky $(id)"]
    assert [t["api_key_env"] for t in targets] == ["CLEAN_VENDOR_KEY", "QUIRKY_VENDOR_KEY"]

    # one job per target and line: the run step as GitHub would fill in its env, then what the upload keeps
    checks = step(jobs["run"], "run")
    upload = step(jobs["run"], uses="actions/upload-artifact@")
    artifacts = tmp_path / "conformance-results"
    lines = json.loads(inputs["sdk-lines"])
    for target, line in itertools.product(targets, lines):
        job_dir = tmp_path / f"job-{target['slug']}-{line}"
        shutil.copytree(tmp_path / "compat", job_dir / "compat")
        env = {
            "TARGETS_FILE": inputs["targets-file"],
            "TARGET_NAME": target["name"],
            "TARGET_KEY_ENV": target["api_key_env"],
            "TARGET_KEY": secrets[target["api_key_env"]],
            "OPENAI_API_KEY": "",
            "RUN_ARGS": inputs["args"],
        }
        done = bash(checks["run"], job_dir, env)
        assert done.returncode == (0 if target["name"] == "Clean" else 1), done.stdout + done.stderr
        assert secrets[target["api_key_env"]] not in done.stdout + done.stderr
        matrix = {"matrix.target.slug": target["slug"], "matrix.sdk": line}
        name = filled(upload["with"]["name"], matrix)
        for kept in upload["with"]["path"].splitlines():
            source = job_dir / filled(kept, matrix)
            if source.exists():  # download-artifact puts each artifact in a directory named after it
                (artifacts / name).mkdir(parents=True, exist_ok=True)
                shutil.copy(source, artifacts / name / source.name)
    assert len(list(artifacts.iterdir())) == len(targets) * len(lines)  # every name distinct

    merge = next(s for s in jobs["comparison"]["steps"] if "conformance docs" in s.get("run", ""))
    summary = tmp_path / "step_summary.md"
    done = bash(merge["run"], tmp_path, {"GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 0, done.stdout + done.stderr
    page = (tmp_path / "conformance-site" / "comparison.md").read_text()
    assert summary.read_text() == page
    # every job here ran the installed SDK: a target's two columns share a line, and are numbered
    header = next(line for line in page.splitlines() if line.startswith("| Feature | Level |"))
    assert header.count("Clean (openai ") == 2 and header.count("Quirky $(id) (openai ") == 2
