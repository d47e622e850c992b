"""A target file says which server it tests, in keys the tool knows: the tool must never say
more than it measured.

A file without a base URL certified the embedded mock with exit 0, and misspelt keys (``base-url:``,
``model:``, ``know_failing:``) were ignored. Now the file is held to a JSON Schema shipped in the
package (``conformance/schemas/target.schema.json``), an unknown key is one line with the key it
probably meant, and a file names its server: ``base_url``, ``--base-url``, or ``embedded_mock: true``.
An exported ``OPENAI_BASE_URL`` that replaces the mock is said on the first line.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conformance.capabilities import NAMES
from conformance.cli import main
from conformance.mock.server import MockServer
from conformance.target import TARGET_SCHEMA_PATH, ConfigError, read_config, resolve_target, target_schema

REPO = Path(__file__).resolve().parents[1]
FIXTURES = sorted((REPO / "fixtures" / "targets").glob("*.yaml"))
PRISM = REPO / "fixtures" / "targets" / "prism.yaml"


@pytest.fixture(autouse=True)
def _no_target_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def run(tmp_path: Path, config: str, *args: str) -> int:
    path = tmp_path / "target.yaml"
    path.write_text(config)
    return main(["run", "--config", str(path), "--out", str(tmp_path / "out"), "--quiet", *args])


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


# --- the schema ------------------------------------------------------------------------------------


def test_the_schema_ships_in_the_package_and_is_draft_2020_12() -> None:
    shipped = resources.files("conformance") / "schemas" / "target.schema.json"
    assert shipped.is_file() and Path(str(shipped)) == TARGET_SCHEMA_PATH
    schema = target_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def _objects(node: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            found.append((where or "top level", node))
        for key, value in node.items():
            found += _objects(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _objects(value, f"{where}/{index}")
    return found


def test_every_key_is_described_and_no_other_key_is_allowed() -> None:
    # editors show the descriptions while completing; an unknown key is an error, not ignored
    for where, node in _objects(target_schema()):
        assert node.get("additionalProperties") is False, where
        undescribed = [key for key, spec in node["properties"].items() if not spec.get("description")]
        assert undescribed == [], where


def test_the_schema_knows_every_key_the_code_reads_and_every_capability() -> None:
    schema = target_schema()
    read_today = {"name", "base_url", "api_key_env", "models", "claims", "known_failing"}
    planned = {"headers", "query", "ca_bundle", "insecure"}  # extra headers, query, TLS: optional
    several = {"targets"}  # a file of several targets: each entry is itself shaped like this schema
    assert read_today | planned | several | {"embedded_mock"} == set(schema["properties"])
    assert not set(schema.get("required") or ())
    assert list(schema["properties"]["models"]["properties"]) == list(NAMES)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_the_repository_target_files_are_valid(path: Path) -> None:
    assert read_config(path)["name"]
    assert path.read_text().startswith("# yaml-language-server: $schema=../../conformance/schemas/target.schema.json")


def test_the_optional_connection_keys_validate(tmp_path: Path) -> None:
    path = tmp_path / "target.yaml"
    path.write_text(
        "base_url: https://x.openai.azure.com/openai/v1\n"
        "headers: {api-key: from-env, x-route: 2}\nquery: {api-version: 2024-10-21}\n"
        "ca_bundle: /etc/ssl/private-ca.pem\ninsecure: false\n"
    )
    assert read_config(path)["query"] == {"api-version": "2024-10-21"}
    path.write_text("base_url: https://x/v1\ninsecure: sometimes\n")
    with pytest.raises(ConfigError, match="insecure: 'sometimes' is not of type 'boolean'"):
        read_config(path)


# --- unknown keys: one line, exit 2, with the key meant --------------------------------------------


@pytest.mark.parametrize(
    "config, message",
    [
        ("base-url: http://127.0.0.1:9/v1\n", "unknown key 'base-url' (did you mean 'base_url'?)"),
        ("model: {chat: m}\n", "unknown key 'model' (did you mean 'models'?)"),
        ("know_failing: []\n", "unknown key 'know_failing' (did you mean 'known_failing'?)"),
        ("models: {chat: m, embedding: e}\n", "unknown capability 'embedding' in models (did you mean 'embeddings'?)"),
        ("claims: {suported: [chat.n]}\n", "unknown key 'suported' in claims (did you mean 'supported'?)"),
        (
            "known_failing: [{feature: chat.n, reson: later}]\n",
            "unknown key 'reson' in known_failing[0] (did you mean 'reason'?)",
        ),
        ("api_key: sk-123\n", "unknown key 'api_key' (did you mean 'api_key_env'?)"),
        ("colour: blue\n", "unknown key 'colour' (know name, base_url,"),
        ("models: gpt-4o\n", "models: 'gpt-4o' is not of type 'object'"),
    ],
)
def test_a_misspelt_key_is_one_line_naming_the_key_meant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, message: str
) -> None:
    assert run(tmp_path, config) == 2
    line = one_line(capsys)
    assert line.startswith("conformance: target config ") and message in line
    assert not (tmp_path / "out" / "results.json").exists()


def test_the_issues_typos_together_name_the_first_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = "name: Vendor\nbase-url: http://127.0.0.1:9/v1\nmodel: {chat: m}\nknow_failing: []\n"
    assert run(tmp_path, config) == 2
    assert "unknown key 'base-url' (did you mean 'base_url'?)" in one_line(capsys)


# --- a file names its server --------------------------------------------------------------------------


def test_a_file_without_a_base_url_is_an_error_not_a_run_of_the_mock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "name: Vendor\nmodels: {chat: vendor-chat}\n") == 2
    line = one_line(capsys)
    assert "has no base_url" in line and "--base-url" in line and "embedded_mock: true" in line
    assert not (tmp_path / "out" / "results.json").exists()


def test_the_prism_fixture_needs_its_base_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the audit's reproduction: this used to print CERTIFIED for the embedded mock, exit 0
    monkeypatch.setenv("PRISM_API_KEY", "x")
    assert main(["run", "--config", str(PRISM), "--out", str(tmp_path), "--quiet"]) == 2
    assert f"target config {PRISM} has no base_url" in one_line(capsys)
    # an exported OPENAI_BASE_URL does not stand in for the file's base URL
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert main(["run", "--config", str(PRISM), "--out", str(tmp_path), "--quiet"]) == 2
    assert "OPENAI_BASE_URL is not read with a target file" in one_line(capsys)


def test_the_peer_fixtures_work_with_base_url_on_the_command_line(tmp_path: Path) -> None:
    # scripts/regenerate_peer_reports.py passes --base-url with fixtures/targets/*.yaml
    for path in FIXTURES:
        key_env = read_config(path)["api_key_env"]
        target = resolve_target(base_url="http://127.0.0.1:9", config_path=path, environ={key_env: "k"})
        assert target is not None and target.base_url == "http://127.0.0.1:9" and target.models["chat"]
        assert target.name == read_config(path)["name"]


def test_the_prism_fixture_runs_against_the_url_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with MockServer(api_key="prism-key") as server:
        monkeypatch.setenv("PRISM_API_KEY", "prism-key")
        args = ["run", "--config", str(PRISM), "--base-url", server.base_url, "--out", str(tmp_path), "--quiet"]
        # the mock does not serve gpt-4o-mini (Prism answers any name): --force past preflight's stop
        assert main([*args, "--force", "--select", "http.path.unknown_route"]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["target"]["name"].startswith("Stoplight Prism") and results["target"]["base_url"] == server.base_url
    assert results["target"]["embedded_mock"] is False


def test_embedded_mock_true_tests_the_mock(tmp_path: Path) -> None:
    assert run(tmp_path, "embedded_mock: true\nclaims: {supported: [models.*]}\n", "--select", "models") == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["target"]["embedded_mock"] is True and results["claims"]["disagreements"] == []


@pytest.mark.parametrize(
    "config, args, message",
    [
        ("embedded_mock: true\nbase_url: http://127.0.0.1:9/v1\n", [], "sets both base_url and embedded_mock"),
        ("embedded_mock: true\n", ["--base-url", "http://127.0.0.1:9/v1"], "says embedded_mock: true, but a base URL"),
    ],
)
def test_a_file_cannot_point_two_ways(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, args: list[str], message: str
) -> None:
    assert run(tmp_path, config, *args) == 2
    assert message in one_line(capsys)


# --- OPENAI_BASE_URL ---------------------------------------------------------------------------------


def test_an_exported_base_url_is_said_on_the_first_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with MockServer(api_key="env-key") as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "env-key")
        assert main(["run", "--model", "mock-chat", "--out", str(tmp_path), "--select", "models"]) == 0
    first = capsys.readouterr().err.splitlines()[0]
    assert first == f"target: {server.base_url} (from OPENAI_BASE_URL; unset it to test the embedded mock)"


def test_no_target_line_when_a_flag_or_the_mock_chose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["run", "--out", str(tmp_path), "--select", "models"]) == 0
    assert "OPENAI_BASE_URL" not in capsys.readouterr().err
    with MockServer(api_key="flag-key") as server:
        monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # the flag wins, silently
        args = ["run", "--base-url", server.base_url, "--api-key", "flag-key", "--model", "mock-chat"]
        assert main([*args, "--out", str(tmp_path), "--select", "models"]) == 0
    assert "OPENAI_BASE_URL" not in capsys.readouterr().err
