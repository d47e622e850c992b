"""What people expect of a tool like this: list the features, leave some out, rerun what failed, and
compare two runs (the regressions an SDK pin bump would bring). The commands are run as users run them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.catalog import load_catalog
from conformance.cli import main
from conformance.regressions import diff_results, failed_features

CLI = [sys.executable, "-m", "conformance"]


def conformance(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, env=env)


# --- conformance list -------------------------------------------------------------------------------


def test_list_says_level_area_needs_and_whether_each_would_run() -> None:
    catalog = load_catalog()
    done = conformance("list", "--json")
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    assert [row["id"] for row in listing["features"]] == list(catalog.features)
    assert listing["embedded_mock"] is True and all(row["runs"] for row in listing["features"])
    row = next(row for row in listing["features"] if row["id"] == "embeddings.basic")
    assert row["level"] == "required" and row["area"] == "embeddings" and row["needs"] == ["embeddings"]
    # against a server with a chat model only: what needs another model would be skipped, and says why
    done = conformance("list", "--base-url", "https://api.vendor.example/v1", "--model", "vendor/chat", "--json")
    rows = {row["id"]: row for row in json.loads(done.stdout)["features"]}
    assert rows["embeddings.basic"]["runs"] is False and rows["embeddings.basic"]["missing"] == ["embeddings"]
    assert rows["chat.basic"]["runs"] is True
    assert rows["chat.tools.named"]["runs"] is True  # tools falls back to the chat model, as in a run
    text = conformance("list", "--base-url", "https://x.example/v1", "--model", "m", "--select", "embeddings.basic")
    assert "embeddings.basic" in text.stdout and "no: no embeddings model" in text.stdout
    assert "0 would run, 1 would be skipped" in text.stdout and "the configured models: chat=m" in text.stdout


def test_list_reads_the_models_of_a_target_file(tmp_path: Path) -> None:
    config = tmp_path / "target.yaml"
    config.write_text("base_url: https://api.vendor.example/v1\nmodels: {chat: c, embeddings: e}\n")
    done = conformance("list", "--config", str(config), "--select", "embeddings", "chat.messages.image_url", "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["id"]: row["runs"] for row in json.loads(done.stdout)["features"]}
    assert rows["embeddings.basic"] is True and rows["chat.messages.image_url"] is False


def test_exclude_leaves_features_out_of_list_and_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    done = conformance("list", "--select", "models", "--exclude", "models.retrieve*", "--json")
    ids = [row["id"] for row in json.loads(done.stdout)["features"]]
    assert ids and all(i.startswith("models.") and not i.startswith("models.retrieve") for i in ids)
    assert main(["run", "--select", "models", "--exclude", "models.retrieve*", "--out", str(tmp_path), "--quiet"]) == 0
    assert list(json.loads((tmp_path / "results.json").read_text())["features"]) == ids
    capsys.readouterr()
    assert main(["run", "--exclude", "modles", "--out", str(tmp_path), "--quiet"]) == 2  # a typo is no silent no-op
    err = capsys.readouterr().err
    assert "--exclude modles (did you mean models?)" in err and err.count("\n") == 1


# --- rerun what failed, and diff two runs -------------------------------------------------------------


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A clean subset run, then the same subset against a mock whose streams end without [DONE]."""
    base = tmp_path_factory.mktemp("runs")
    select = ["--select", "chat.stream", "models.list", "--quiet"]
    assert main(["run", *select, "--out", str(base / "old")]) == 0
    assert main(["run", *select, "--mock-quirk", "stream.done_missing", "--out", str(base / "new")]) == 1
    return base / "old" / "results.json", base / "new" / "results.json"


def test_diff_names_the_regressions_and_exits_1(two_runs: tuple[Path, Path]) -> None:
    old, new = two_runs
    done = conformance("diff", str(old), str(new))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Regressions (passing before, failing now):" in done.stdout
    assert "  chat.stream.done_sentinel: supported -> nonconformant (nonconformant: " in done.stdout
    assert done.stdout.rstrip().endswith("REGRESSED")
    report = json.loads(conformance("diff", str(old), str(new), "--json").stdout)
    regressions = [c["feature"] for c in report["changes"] if c["kind"] == "regression"]
    assert "chat.stream.done_sentinel" in regressions and "models.list" not in regressions
    assert report["regressed"] is True and report["summary"]["fix"] == 0
    # the other way round it is a fix: exit 0
    back = conformance("diff", str(new), str(old), "--json")
    assert back.returncode == 0
    assert "chat.stream.done_sentinel" in [
        c["feature"] for c in json.loads(back.stdout)["changes"] if c["kind"] == "fix"
    ]
    same = conformance("diff", str(old), str(old))
    assert same.returncode == 0 and "0 regressions, 0 fixes, 0 changed" in same.stdout
    assert conformance("diff", str(old), "/nonexistent.json").returncode == 2


def test_rerun_only_what_failed(
    two_runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = two_runs
    failed = failed_features(json.loads(new.read_text()))
    assert "chat.stream.done_sentinel" in failed and "models.list" not in failed
    assert main(["run", "--select-from", str(new), "--failed", "--out", str(tmp_path), "--quiet"]) == 0
    assert list(json.loads((tmp_path / "results.json").read_text())["features"]) == failed
    # without --failed: the same features as that run
    assert main(["run", "--select-from", str(old), "--out", str(tmp_path), "--quiet"]) == 0
    assert list(json.loads((tmp_path / "results.json").read_text())) and list(
        json.loads((tmp_path / "results.json").read_text())["features"]
    ) == list(json.loads(old.read_text())["features"])
    capsys.readouterr()
    # nothing failed: nothing to rerun, and that is no failure
    assert main(["run", "--select-from", str(old), "--failed", "--out", str(tmp_path), "--quiet"]) == 0
    assert "nothing to rerun: no feature failed in" in capsys.readouterr().err
    assert main(["run", "--failed", "--out", str(tmp_path), "--quiet"]) == 2
    assert "--failed needs --select-from" in capsys.readouterr().err


def _doc(**features: dict[str, Any]) -> dict[str, Any]:
    return {"features": features, "gate": {"reading": "compatible"}}


def _feature(status: str, disposition: str, level: str = "optional", why: str = "") -> dict[str, Any]:
    judgement = {"disposition": disposition, "why": why or status, "blocks_certification": disposition == "fail"}
    return {"status": status, "level": level, "reason": f"{status} reason", "judgement": judgement}


def test_what_failed_means() -> None:
    document = _doc(
        passing=_feature("supported", "pass"),
        skipped=_feature("skipped", "skip"),
        broken=_feature("nonconformant", "fail"),
        declined_optional=_feature("unsupported", "skip"),  # an honest "no": allowed, but may have changed
        undecided_optional=_feature("error", "skip"),
        known=_feature("nonconformant", "expected_fail", why="known failure (fixed in 2.4)"),
        contradicted=_feature("supported", "fail", why="claimed unsupported, works"),
    )
    assert failed_features(document) == [
        "broken",
        "declined_optional",
        "undecided_optional",
        "known",
        "contradicted",
    ]


def test_a_diff_classifies_every_feature() -> None:
    old = _doc(
        a=_feature("supported", "pass"),
        b=_feature("nonconformant", "fail"),
        c=_feature("supported", "pass"),
        d=_feature("error", "skip"),
        gone=_feature("supported", "pass"),
    )
    new = _doc(
        a=_feature("nonconformant", "fail"),
        b=_feature("supported", "pass"),
        c=_feature("unsupported", "skip"),
        d=_feature("error", "skip"),
        fresh=_feature("supported", "pass"),
    )
    diff = diff_results(old, new)
    kinds = {change.feature: change.kind for change in diff.changes}
    assert kinds == {"a": "regression", "b": "fix", "c": "changed", "fresh": "added", "gone": "removed"}
    assert diff.unchanged == 1 and diff.exit_code == 1
