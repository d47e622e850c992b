"""A target file of several targets: each runs as a run of its own into ``--out DIR/<name>/``, and one
comparison page sets them side by side, the same page whether ``conformance run`` writes it or
``conformance docs`` merges the results of many machines.

The targets are reference mocks on free loopback ports, one with a quirk (so that the verdicts
differ), and a port nothing listens on for a target that cannot be reached.
"""

from __future__ import annotations

import copy
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.embedded import embedded_target
from conformance.report import write_docs
from conformance.report.comparison import NOT_RUN_FILE, columns, not_run_record, render_comparison
from conformance.report.markdown import SYMBOLS
from conformance.target import Target, read_config, target_entries, target_matrix
from tests.conftest import TEST_TIMEOUTS
from tests.sample_results import docs_results

QUIRK = "stream.done_missing"  # breaks chat.stream.done_sentinel alone
FEATURES = ["--select", "models.list", "chat.stream.done_sentinel"]


@pytest.fixture(autouse=True)
def _no_ci_and_no_target_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def clean_mock() -> Iterator[Target]:
    with embedded_target(timeouts=TEST_TIMEOUTS) as target:
        yield target


@pytest.fixture(scope="module")
def quirky_mock() -> Iterator[Target]:
    with embedded_target(quirks=[QUIRK], timeouts=TEST_TIMEOUTS) as target:
        yield target


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch, clean_mock: Target, quirky_mock: Target) -> None:
    monkeypatch.setenv("CLEAN_KEY", clean_mock.api_key.reveal())
    monkeypatch.setenv("QUIRKY_KEY", quirky_mock.api_key.reveal())


def entry(name: str, target: Target, key_env: str) -> str:
    return (
        f"  - name: {name}\n    base_url: {target.base_url}\n    api_key_env: {key_env}\n"
        f"    models: {{chat: {target.models['chat']}}}\n"
    )


def unreachable_base_url() -> str:
    with socket.socket() as sock:  # a port the system just handed out, closed again: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.yaml"
    path.write_text(text)
    return path


def run(config: Path, out: Path, *args: str) -> int:
    return main(["run", "--config", str(config), "--out", str(out), "--quiet", *FEATURES, *args])


def results(directory: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((directory / "results.json").read_text())
    return document


def feature_cells(page: str) -> dict[str, dict[str, str]]:
    """The comparison's "Every feature" table: column label -> feature -> cell."""
    table = page.split("## Every feature", 1)[1].strip().splitlines()
    labels = [label.strip() for label in table[0].strip("|").split("|")][2:]
    cells: dict[str, dict[str, str]] = {label: {} for label in labels}
    for row in table[2:]:
        feature, _level, *verdicts = (part.strip() for part in row.strip().strip("|").split("|"))
        for label, verdict in zip(labels, verdicts, strict=True):
            cells[label][feature.strip("`")] = verdict
    return cells


def summary_row(page: str, label: str) -> list[str]:
    row = next(line for line in page.splitlines() if line.startswith(f"| {label} |"))
    return [part.strip() for part in row.strip("|").split("|")]


# --- a run of several targets --------------------------------------------------------------------------


def test_each_target_runs_into_its_directory_and_one_page_compares_them(
    tmp_path: Path, keys: None, clean_mock: Target, quirky_mock: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(
        tmp_path, "targets:\n" + entry("Clean", clean_mock, "CLEAN_KEY") + entry("Quirky", quirky_mock, "QUIRKY_KEY")
    )
    out = tmp_path / "out"
    assert run(config, out) == 1  # the quirky target's gate fails
    clean, quirky = results(out / "clean"), results(out / "quirky")
    for directory in (out / "clean", out / "quirky"):  # each a whole single run's reports
        assert {"results.json", "matrix.md", "junit.xml", "report.html"} <= {p.name for p in directory.iterdir()}
    assert clean["target"]["name"] == "Clean" and clean["target"]["base_url"] == clean_mock.base_url
    assert quirky["target"]["name"] == "Quirky" and quirky["target"]["base_url"] == quirky_mock.base_url
    assert clean["gate"]["passes"] and not quirky["gate"]["passes"]
    assert quirky["features"]["chat.stream.done_sentinel"]["status"] == "nonconformant"

    page = (out / "comparison.md").read_text()
    cells = feature_cells(page)
    for label, document in (("Clean", clean), ("Quirky", quirky)):
        assert cells[label] == {f: SYMBOLS[v["status"]] for f, v in document["features"].items()}
    assert summary_row(page, "Clean")[2] == "passes" and summary_row(page, "Quirky")[2] == "fails"
    assert not (out / "results.json").exists()  # nothing of a single run at the top

    def said(document: dict[str, Any], gate: str) -> str:  # the line says what results.json says
        counts = ", ".join(f"{document['summary'][status]} {status}" for status in SYMBOLS)
        selection = document["selection"]
        name = document["target"]["name"]
        where = out / name.lower()
        return (
            f"{name}: gate {gate}, partial: {selection['run']} of {selection['catalog']} features · {counts} ({where})"
        )

    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if line.startswith(("Clean:", "Quirky:"))] == [
        said(clean, "passes"),
        said(quirky, "fails"),
    ]
    assert quirky["summary"]["nonconformant"] == 1
    assert f"wrote {out / 'comparison.md'}" in lines


def test_exit_0_only_when_every_target_passes(tmp_path: Path, keys: None, clean_mock: Target) -> None:
    config = write(
        tmp_path, "targets:\n" + entry("One", clean_mock, "CLEAN_KEY") + entry("Two", clean_mock, "CLEAN_KEY")
    )
    assert run(config, tmp_path / "out") == 0
    assert results(tmp_path / "out" / "one")["gate"]["passes"] and results(tmp_path / "out" / "two")["gate"]["passes"]


def test_a_target_that_cannot_be_reached_does_not_stop_the_others(
    tmp_path: Path, keys: None, clean_mock: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    down = unreachable_base_url()
    config = write(
        tmp_path,
        "targets:\n"
        f"  - name: Down\n    base_url: {down}\n    api_key_env: CLEAN_KEY\n    models: {{chat: m}}\n"
        "  - name: No key\n    base_url: http://127.0.0.1:9/v1\n"
        "    api_key_env: NOBODY_SET_THIS_KEY\n    models: {chat: m}\n" + entry("Clean", clean_mock, "CLEAN_KEY"),
    )
    out = tmp_path / "out"
    assert run(config, out) == 1  # a target that was not run fails the gate
    assert results(out / "clean")["gate"]["passes"]  # run after the two that could not be
    record = json.loads((out / "down" / NOT_RUN_FILE).read_text())
    assert record["not_run"] == f"cannot reach {down}: connection refused"
    assert record["target"] == {"name": "Down", "base_url": down}
    assert not (out / "down" / "results.json").exists()
    assert "NOBODY_SET_THIS_KEY" in json.loads((out / "no-key" / NOT_RUN_FILE).read_text())["not_run"]

    page = (out / "comparison.md").read_text()
    assert summary_row(page, "Down")[2] == f"**not run**: cannot reach {down}: connection refused"
    assert set(feature_cells(page)["Down"].values()) == {"not run"}
    assert feature_cells(page)["Clean"]["models.list"] == SYMBOLS["supported"]
    printed = capsys.readouterr()
    assert f"Down: not run: cannot reach {down}: connection refused ({out / 'down'})" in printed.out
    assert "Traceback" not in printed.err


def test_docs_merging_the_results_gives_the_same_comparison_page(
    tmp_path: Path, keys: None, clean_mock: Target, quirky_mock: Target
) -> None:
    config = write(
        tmp_path,
        "targets:\n"
        + entry("Clean", clean_mock, "CLEAN_KEY")
        + entry("Quirky", quirky_mock, "QUIRKY_KEY")
        + f"  - name: Down\n    base_url: {unreachable_base_url()}\n    api_key_env: CLEAN_KEY\n"
        + "    models: {chat: m}\n",
    )
    out = tmp_path / "out"
    assert run(config, out) == 1
    # as CI's merge job has them: one file per machine, named by nothing but its path
    merged = [out / "clean" / "results.json", out / "quirky" / "results.json", out / "down" / NOT_RUN_FILE]
    assert main(["docs", *map(str, merged), "--out", str(tmp_path / "site")]) == 0
    assert (tmp_path / "site" / "comparison.md").read_text() == (out / "comparison.md").read_text()
    assert {"clean.md", "quirky.md", "clean.svg", "quirky.svg"} <= {p.name for p in (tmp_path / "site").iterdir()}


def test_one_target_of_the_file_runs_alone_with_target(
    tmp_path: Path, keys: None, clean_mock: Target, quirky_mock: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(
        tmp_path, "targets:\n" + entry("Clean", clean_mock, "CLEAN_KEY") + entry("Quirky", quirky_mock, "QUIRKY_KEY")
    )
    out = tmp_path / "out"
    assert run(config, out, "--target", "Quirky") == 1
    assert sorted(p.name for p in out.iterdir()) == ["comparison.md", "quirky"]
    assert list(feature_cells((out / "comparison.md").read_text())) == ["Quirky"]
    assert run(config, out, "--target", "Quirk") == 2
    assert "has no target 'Quirk' (did you mean 'Quirky'?)" in capsys.readouterr().err


def test_one_server_with_several_chat_models_is_one_target_per_model(
    tmp_path: Path, keys: None, clean_mock: Target
) -> None:
    config = write(
        tmp_path,
        f"name: Mock\nbase_url: {clean_mock.base_url}\napi_key_env: CLEAN_KEY\n"
        "models: {chat: [mock-chat, mock-org/mock-chat]}\n",
    )
    out = tmp_path / "out"
    assert run(config, out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["comparison.md", "mock-mock-chat", "mock-mock-org-mock-chat"]
    first, second = results(out / "mock-mock-chat"), results(out / "mock-mock-org-mock-chat")
    assert (first["target"]["name"], first["target"]["models"]["chat"]) == ("Mock (mock-chat)", "mock-chat")
    assert second["target"]["models"]["chat"] == second["target"]["models"]["tools"] == "mock-org/mock-chat"
    assert run(config, tmp_path / "one", "--target", "Mock (mock-chat)") == 0  # a model alone, by its name
    assert [p.name for p in (tmp_path / "one").iterdir() if p.is_dir()] == ["mock-mock-chat"]


# --- mistakes of the file itself: exit 2, before anything is sent ----------------------------------------


@pytest.mark.parametrize(
    "text, args, message",
    [
        (
            "targets:\n  - {name: A, embedded_mock: true}\n  - {name: A, embedded_mock: true}\n",
            [],
            "two targets are named 'A'",
        ),
        (
            "name: X\ntargets:\n  - {name: A, embedded_mock: true}\n",
            [],
            "a file with targets: holds nothing beside it (found name)",
        ),
        ("targets:\n  - {embedded_mock: true}\n", [], "targets[0]: 'name' is a required property"),
        (
            "targets:\n  - {name: A, base-url: 'http://x/v1'}\n",
            [],
            "unknown key 'base-url' in targets[0] (did you mean 'base_url'?)",
        ),
        ("targets:\n  - {name: A, models: {chat: m}}\n", [], "target 'A' has no base_url"),
        (
            "targets:\n  - {name: A, embedded_mock: true, claims: {supported: [chat.nope]}}\n",
            [],
            "target 'A': 'chat.nope' (in claims or known_failing) matches no feature",
        ),
        (
            "targets:\n  - {name: A, embedded_mock: true}\n  - {name: B, embedded_mock: true}\n",
            ["--name", "C"],
            "--name names one target",
        ),
        (
            "targets:\n  - {name: A, embedded_mock: true}\n",
            ["--select", "chat.bsaic"],
            "no feature matches --select chat.bsaic",
        ),
    ],
)
def test_a_mistake_in_the_file_is_exit_2_before_any_target_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, args: list[str], message: str
) -> None:
    config = write(tmp_path, text)
    assert main(["run", "--config", str(config), "--out", str(tmp_path / "out"), "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "out").exists()


# --- single-target files, and other commands ------------------------------------------------------------


def test_a_file_of_one_target_runs_as_it_always_did(tmp_path: Path, keys: None, clean_mock: Target) -> None:
    config = write(
        tmp_path, f"name: Clean\nbase_url: {clean_mock.base_url}\napi_key_env: CLEAN_KEY\nmodels: {{chat: mock-chat}}\n"
    )
    out = tmp_path / "out"
    assert run(config, out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "matrix.md", "report.html", "results.json"]
    assert results(out)["target"]["name"] == "Clean"


def test_commands_that_take_one_target_refuse_a_file_of_several(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "targets:\n  - {name: A, embedded_mock: true}\n  - {name: B, embedded_mock: true}\n")
    assert main(["list", "--config", str(config)]) == 2
    assert "lists several targets (A, B)" in capsys.readouterr().err


# --- the comparison page ----------------------------------------------------------------------------------


def test_one_target_under_several_sdk_lines_is_one_column_per_line(tmp_path: Path) -> None:
    older = copy.deepcopy(docs_results())
    older["sdk"]["version"] = "2.54.0"
    assert [column.label for column in columns([docs_results(), older])] == [
        "Vendor (openai 3.54.0)",
        "Vendor (openai 2.54.0)",
    ]
    page = render_comparison([docs_results(), older])
    assert "| Feature | Level | Vendor (openai 3.54.0) | Vendor (openai 2.54.0) |" in page
    # and the docs pages of the two runs do not overwrite each other
    written = {path.name for path in write_docs([docs_results(), older], tmp_path)}
    assert {"vendor-openai-3-54-0.md", "vendor-openai-2-54-0.md", "comparison.md"} <= written
    assert [column.label for column in columns([docs_results(), docs_results()])][1] == "Vendor (openai 3.54.0) #2"


def test_a_not_run_record_that_is_not_one_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / NOT_RUN_FILE
    broken.write_text(json.dumps({"not_run": "down", "target": {}}))
    good = tmp_path / "results.json"
    good.write_text(json.dumps(docs_results()))
    assert main(["docs", str(good), str(broken), "--out", str(tmp_path / "site")]) == 2
    assert re.search(r"not a results\.json this version can read: a not-run record has", capsys.readouterr().err)


def test_the_readme_example_file_is_valid_and_names_five_targets(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Many targets", 1)[1].split("\n## ", 1)[0]
    example = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)[0]
    config = write(tmp_path, example)
    assert [target["name"] for target in target_matrix(config)] == [
        "Vendor EU (vendor/small)",
        "Vendor EU (vendor/large)",
        "Vendor US (vendor/small)",
        "Vendor US (vendor/large)",
        "Staging",
    ]
    us = target_entries(read_config(config, several=True), config)[2].config
    assert us["base_url"] == "https://us.api.vendor.example/v1" and us["claims"] == {"unsupported": ["chat.n"]}


def test_the_page_renders_as_written_with_a_target_not_run() -> None:
    from tests.test_markdown_gfm import page_problems  # GitHub's Markdown, as the other pages are held to it

    reason = "cannot reach http://127.0.0.1:9/v1: <html> | a pipe and *stars*"
    down = not_run_record("Down | <b>", reason, base_url="http://127.0.0.1:9/v1", sdk_version="2.54.0")
    page = render_comparison([docs_results(), down])
    assert page_problems(page) == []
    assert "| Feature | Level | Vendor | Down \\| &lt;b> |" in page  # the label as written, escaped
    assert "| `chat.basic` | required | ✅ supported | not run |" in page


def test_a_run_cut_short_says_so_in_its_gate_cell() -> None:
    stalled = copy.deepcopy(docs_results())
    stalled["target"]["name"] = "Stalled"
    stalled["stopped"] = {"kind": "stall", "cause": "the target stopped answering"}
    interrupted = copy.deepcopy(docs_results())
    interrupted["target"]["name"] = "Cut"
    interrupted["interrupted"] = True
    page = render_comparison([docs_results(), stalled, interrupted])
    assert summary_row(page, "Stalled")[2] == "fails (stopped: the target stopped answering)"
    assert summary_row(page, "Cut")[2] == "fails (interrupted)"
