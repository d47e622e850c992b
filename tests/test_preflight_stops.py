"""The two commonest mistakes stop before the first feature, with the fix in one line.

A base URL without ``/v1`` cost a run of 58 unsupported features, an unknown chat model 52; preflight
had already seen the 404. Now ``conformance run`` stops with exit 2 and the catalog's words, unless
``--force``. It stops only on clear evidence: servers that ignore model names (llama-cpp-python),
list placeholders (Prism), or serve no model list at all run as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conformance.catalog import load_catalog
from conformance.cli import main
from conformance.mock.server import MockServer
from conformance.preflight import preflight
from conformance.target import ConfigError, Secret, Target
from conformance.troubleshooting import entry_of
from conformance.wire import Recorder, WireClient
from tests.conftest import TEST_TIMEOUTS
from tests.scripted import Request, Script, send_json

KEY = "preflight-key"
CATALOG = load_catalog()


def cause(entry_id: str) -> str:
    """The catalog's wording, as a terminal line shows it."""
    return entry_of(CATALOG, entry_id).cause.replace("`", "")


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(api_key=KEY) as mock:
        yield mock


def run(server: MockServer, tmp_path: Path, base_url: str, *args: str) -> int:
    flags = ["--base-url", base_url, "--api-key", KEY, "--out", str(tmp_path), "--quiet"]
    return main(["run", *flags, *args])


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def root(server: MockServer) -> str:
    return server.base_url.removesuffix("/v1")


@pytest.mark.parametrize(
    "suffix, seen, entry",
    [
        ("", "GET /models answered 404 and GET /v1/models lists the models", "base_url.v1_missing"),
        ("/v1/chat/completions", "GET /v1/chat/completions/models answered 404", "base_url.endpoint_appended"),
        ("/chat/completions", "GET /chat/completions/models answered 404", "base_url.endpoint_appended"),
        ("/v1/v1", "GET /v1/v1/models answered 404 and GET /v1/models lists the models", "base_url.v1_doubled"),
    ],
)
def test_a_wrong_base_url_stops_with_the_fix(
    server: MockServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str, seen: str, entry: str
) -> None:
    wrong = root(server) + suffix
    assert run(server, tmp_path, wrong, "--model", "mock-chat") == 2
    line = one_line(capsys)
    assert line.startswith(f"conformance: wrong base URL {wrong}: {seen}")
    assert cause(entry) in line  # the catalog's troubleshooting entry words it: one place
    assert line.endswith(f"Fix: base URL {server.base_url} (--force runs anyway)")
    # the target answered: the run is written too, every feature an error saying why, for CI to find
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["stopped"] == {"kind": "preflight", "cause": line.removeprefix("conformance: ")}
    assert {entry["status"] for entry in results["features"].values()} == {"error"}
    assert not results["gate"]["passes"] and not results["certified"]


def test_an_unserved_chat_model_stops_saying_what_was_seen(
    server: MockServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(server, tmp_path, server.base_url, "--model", "gpt-4o") == 2
    line = one_line(capsys)
    assert line.startswith(
        f"conformance: chat model 'gpt-4o' is not served by {server.base_url}: GET /v1/models lists "
    )
    assert "mock-chat" in line and "without it, and GET /v1/models/gpt-4o answered 404 (model_not_found)" in line
    assert "Fix: use an id from client.models.list() (--model, or models.chat in --config; --force runs anyway)" in line


def test_force_runs_anyway(server: MockServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(server, tmp_path, root(server), "--model", "mock-chat", "--force", "--select", "models.list") == 1
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["target"]["base_url"] == root(server)
    assert run(server, tmp_path, server.base_url, "--model", "gpt-4o", "--force", "--select", "chat.basic") != 2
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["features"]["chat.basic"]["status"] == "unsupported"  # the 404 the stop foretold


def test_the_right_url_and_model_run(server: MockServer, tmp_path: Path) -> None:
    # a model id with a slash, listed: no stop either
    assert run(server, tmp_path, server.base_url, "--model", "mock-org/mock-chat", "--select", "models") == 0


# --- only clear evidence stops a run: servers the peers showed -------------------------------------


def _models(*ids: str) -> Callable[[Script, Request, Any], None]:
    def route(script: Script, request: Request, wfile: Any) -> None:
        send_json(wfile, 200, {"object": "list", "data": [{"id": i, "object": "model", "owned_by": "x"} for i in ids]})

    return route


def _not_found(script: Script, request: Request, wfile: Any) -> None:
    send_json(wfile, 404, {"detail": "Not Found"})  # FastAPI's answer to a route it does not have


def _any_model(script: Script, request: Request, wfile: Any) -> None:
    send_json(wfile, 200, {"id": "string", "object": "model", "created": 0, "owned_by": "string"})


@contextmanager
def wire_to(routes: dict[tuple[str, str], Any], path: str, chat: str) -> Iterator[WireClient]:
    with Script(routes) as script:
        base_url = f"http://127.0.0.1:{script.port}{path}"
        client = WireClient(Target(base_url, Secret(KEY), {"chat": chat}, timeouts=TEST_TIMEOUTS), Recorder())
        try:
            yield client
        finally:
            client.close()


def test_a_server_that_ignores_model_names_runs() -> None:
    # llama-cpp-python: lists its one model, answers any name, has no GET /models/{id}
    routes = {("GET", "/v1/models"): _models("tiny-chat"), ("*", "*"): _not_found}
    with wire_to(routes, "/v1", "gpt-4o") as wire:
        preflight(wire, CATALOG)


def test_a_server_that_lists_placeholders_runs() -> None:
    # Prism: lists the spec's example ("string") and retrieves any id; it serves at its root, no /v1
    routes = {("GET", "/models"): _models("string"), ("GET", "/models/gpt-4o-mini"): _any_model}
    with wire_to(routes, "", "gpt-4o-mini") as wire:
        preflight(wire, CATALOG)


def test_a_server_without_a_model_list_runs() -> None:
    # no GET /models anywhere: neither the base URL nor the model can be judged from it
    with wire_to({("*", "*"): _not_found}, "", "m") as wire:
        preflight(wire, CATALOG)
    with wire_to({("*", "*"): _not_found}, "/v1", "m") as wire:
        preflight(wire, CATALOG)


def test_an_endpoint_path_in_the_base_url_stops_even_without_a_model_list() -> None:
    with wire_to({("*", "*"): _not_found}, "/v1/chat/completions", "m") as wire, pytest.raises(ConfigError) as caught:
        preflight(wire, CATALOG)
    assert "GET /v1/chat/completions/models answered 404. " in str(caught.value)
    assert str(caught.value).endswith(f"Fix: base URL {wire.target.origin}/v1 (--force runs anyway)")


def test_wildcard_routes_never_stop_a_model() -> None:
    routes = {("GET", "/v1/models"): _models("openai/*"), ("GET", "/v1/models/a"): _not_found}
    with wire_to(routes, "/v1", "openai/gpt-4o") as wire:
        preflight(wire, CATALOG)


def test_without_the_catalog_or_with_force_only_reachability_and_the_key_stop() -> None:
    routes = {("GET", "/v1/models"): _models("a"), ("*", "*"): _not_found}
    with wire_to(routes, "", "m") as wire:
        preflight(wire)
        preflight(wire, CATALOG, force=True)
        with pytest.raises(ConfigError, match="wrong base URL"):
            preflight(wire, CATALOG)
