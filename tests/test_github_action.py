"""CI: the README's GitHub Actions recipe installs, the composite action's script runs, and failing
features become ``::error`` annotations.

The action's one step is ``scripts/github_action.sh``; it is run here as GitHub runs it, with its
inputs as ``INPUT_*`` variables and fake ``GITHUB_OUTPUT`` / ``GITHUB_STEP_SUMMARY`` files, against
the embedded mock (a quirk makes a feature fail).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cli import main
from conformance.policy import gate_of
from conformance.report.annotations import render_annotations

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "github_action.sh"


def run_action(tmp_path: Path, **inputs: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str], str]:
    output, summary = tmp_path / "github_output", tmp_path / "step_summary.md"
    env = {
        **os.environ,
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "INPUT_INSTALL": "false",  # the package is installed here; in GitHub the action installs itself
        "INPUT_PYTHON": sys.executable,
        "INPUT_OUT": str(tmp_path / "compat"),
        **{f"INPUT_{name.upper()}": value for name, value in inputs.items()},
    }
    env.pop("OPENAI_BASE_URL", None)
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines()) if output.exists() else {}
    return done, outputs, summary.read_text() if summary.exists() else ""


def test_the_action_script_fails_the_step_annotates_and_writes_outputs(tmp_path: Path) -> None:
    done, outputs, summary = run_action(
        tmp_path, args="--mock-quirk stream.done_missing --select chat.stream models.list --quiet"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    errors = [line for line in done.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and errors[0].startswith("::error title=chat.stream.done_sentinel::nonconformant: ")
    results = json.loads((tmp_path / "compat" / "results.json").read_text())
    assert len(errors) == len(gate_of(results).failures)
    assert outputs["exit-code"] == "1" and outputs["passes"] == "false" and outputs["certified"] == "false"
    assert outputs["results"] == str(tmp_path / "compat" / "results.json")
    assert outputs["site"] == str(tmp_path / "compat" / "site")
    assert any(p.suffix == ".svg" for p in (tmp_path / "compat" / "site").iterdir())  # the badge
    assert "openai-conformance" in summary and "chat.stream.done_sentinel" in summary
    # fail-on-gate false: the step passes, the outputs still say what happened
    done, outputs, _ = run_action(
        tmp_path, args="--mock-quirk stream.done_missing --select chat.stream.done_sentinel --quiet", fail="false"
    )
    assert done.returncode == 0 and outputs["exit-code"] == "1" and outputs["passes"] == "false"


def test_a_passing_run_has_no_annotation(tmp_path: Path) -> None:
    done, outputs, summary = run_action(
        tmp_path, args="--select models --quiet --header 'X-Gateway-Route: blue' --name 'Vendor $(id)'", docs="false"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    target = json.loads((tmp_path / "compat" / "results.json").read_text())["target"]
    assert target["headers"] == ["X-Gateway-Route"] and target["name"] == "Vendor $(id)"  # quoted, not evaluated
    assert "::error" not in done.stdout
    assert outputs["passes"] == "true" and "site" not in outputs and summary


def test_a_configuration_error_is_exit_2_and_says_so(tmp_path: Path) -> None:
    done, outputs, _ = run_action(tmp_path, config=str(tmp_path / "missing.yaml"))
    assert done.returncode == 2 and "cannot read target config" in done.stderr
    assert outputs["exit-code"] == "2" and outputs["passes"] == "false"


def test_action_yml_is_a_composite_action_whose_inputs_reach_the_script() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    [step] = action["runs"]["steps"]
    assert step["shell"] == "bash" and "$GITHUB_ACTION_PATH/scripts/github_action.sh" in step["run"]
    script = SCRIPT.read_text()
    for name in action["inputs"]:
        variable = next(key for key, value in step["env"].items() if value == f"${{{{ inputs.{name} }}}}")
        assert variable in script, (name, variable)
    for name, output in action["outputs"].items():
        assert output["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
        assert f"output {name} " in script, name
    assert os.access(SCRIPT, os.X_OK)


def test_the_readme_recipe_installs_from_the_repository() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Certify an endpoint in GitHub Actions", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    workflow = yaml.safe_load(blocks[0])
    steps = workflow["jobs"]["certify"]["steps"]
    installs = [step["run"] for step in steps if "pip install" in str(step.get("run", ""))]
    assert installs == ['pip install "openai-conformance @ git+https://github.com/OWNER/openai-conformance@REF"']
    assert "not published on PyPI" in section
    uses = [step for step in yaml.safe_load(blocks[1]) if "uses" in step and "openai-conformance" in step["uses"]]
    assert uses and uses[0]["uses"] == "OWNER/openai-conformance@REF"


def _results(*failing: str) -> dict[str, Any]:
    features = {
        "ok.feature": {"status": "supported", "reason": "fine", "judgement": _judged("pass", "supported")},
        "declined": {"status": "unsupported", "reason": "400", "judgement": _judged("skip", "unsupported")},
    }
    for feature_id in failing:
        features[feature_id] = {
            "status": "nonconformant",
            "reason": "100% wrong: line one\nline two, with a: colon",
            "judgement": _judged("fail", "nonconformant"),
        }
    return {"features": features, "gate": {"reading": "compatible"}}


def _judged(disposition: str, why: str) -> dict[str, Any]:
    return {"disposition": disposition, "why": why, "blocks_certification": disposition == "fail"}


def test_annotations_one_per_failing_feature_escaped() -> None:
    text = render_annotations(_results("chat.a", "chat.b"))
    assert text.splitlines() == [
        "::error title=chat.a::nonconformant: 100%25 wrong: line one%0Aline two, with a: colon",
        "::error title=chat.b::nonconformant: 100%25 wrong: line one%0Aline two, with a: colon",
    ]
    assert render_annotations(_results()) == ""


def test_annotations_only_in_github_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    args = ["run", "--mock-quirk", "stream.done_missing", "--select", "chat.stream.done_sentinel", "--quiet"]
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert main([*args, "--out", str(tmp_path)]) == 1
    assert "::error" not in capsys.readouterr().out
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main([*args, "--out", str(tmp_path)]) == 1
    assert "::error title=chat.stream.done_sentinel::" in capsys.readouterr().out
