"""Targets that are not plain OpenAI: extra headers and query parameters, TLS options, a name.

An Azure-style deployment wants an ``api-key`` header and ``?api-version=`` on every request; a
staging endpoint has a private CA, or none worth verifying. ``--header``, ``--query``,
``--ca-bundle``, ``--insecure`` and ``--name`` (and ``headers:``, ``query:``, ``ca_bundle:``,
``insecure:``, ``name:`` in the target file) reach every request, through the SDK and the raw client
alike; a header that carries a credential is masked in every report and withheld from other
origins, like the key.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.catalog import load_catalog
from conformance.cli import main
from conformance.engine import Engine
from conformance.mock.server import MockServer
from conformance.redact import Redactor, is_credential_name
from conformance.target import ConfigError, Secret, Target, target_options
from tests.conftest import TEST_TIMEOUTS
from tests.scripted import Request, Script, send_json

KEY = "sk-target-key-5b7e2c9d"
AZURE_KEY = "azure-deployment-key-3f9a1c77"  # the api-key header's value: not the --api-key
ROUTE = "X-Gateway-Route: blue"


class RecordingApp:
    """The mock's ASGI app, noting each request's path, query and headers on the way in."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            self.seen.append((scope["path"], scope["query_string"].decode("latin-1"), headers))
        await self.app(scope, receive, send)


@pytest.fixture
def recorded_mock() -> Iterator[tuple[MockServer, RecordingApp]]:
    server = MockServer(api_key=KEY)
    recording = RecordingApp(server.app)
    server._server.config.app = recording  # uvicorn loads the app when it starts serving
    with server:
        yield server, recording


def _models(server: MockServer) -> list[str]:
    return [
        f"--{option}={model}"
        for option, model in (
            ("model", "mock-chat"),
            ("embedding-model", "mock-embed"),
            ("vision-model", "mock-chat"),
            ("rate-limited-model", "mock-ratelimited"),
            ("image-model", "mock-image"),
            ("transcription-model", "mock-transcribe"),
            ("speech-model", "mock-speech"),
        )
    ]


def test_headers_and_query_parameters_reach_every_request_and_credentials_follow_the_key(
    recorded_mock: tuple[MockServer, RecordingApp], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server, recording = recorded_mock
    code = main(
        [
            "run",
            "--base-url",
            server.base_url,
            "--api-key",
            KEY,
            *_models(server),
            "--header",
            f"api-key: {AZURE_KEY}",
            "--header",
            ROUTE,
            "--query",
            "api-version=2024-10-21",
            "--name",
            "Azure-style gateway",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    output = capsys.readouterr()
    assert code == 0, output.out + output.err
    assert len(recording.seen) > len(load_catalog())  # the whole run, SDK and raw requests
    for path, query, headers in recording.seen:
        assert headers.get("x-gateway-route") == "blue", path
        assert "api-version=2024-10-21" in query, path
    # the credential header goes where the key goes: never with no key or another one (the auth checks)
    with_key = [h for _, _, h in recording.seen if h.get("authorization") == f"Bearer {KEY}"]
    without = [h for _, _, h in recording.seen if h.get("authorization") != f"Bearer {KEY}"]
    assert with_key and all(h.get("api-key") == AZURE_KEY for h in with_key)
    assert without and not any("api-key" in h for h in without)
    # both clients: the SDK's user agent and the raw client's
    agents = {h.get("user-agent", "").split("/")[0] for _, _, h in recording.seen}
    assert {"OpenAI", "openai-conformance (raw-http)"} <= agents
    # masked in every file the run wrote, like the key; the name and the header names are reported
    written = "".join(p.read_text(encoding="utf-8") for p in tmp_path.iterdir())
    assert AZURE_KEY not in written and KEY not in written and AZURE_KEY not in output.out + output.err
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["target"]["name"] == "Azure-style gateway"
    assert results["target"]["headers"] == ["X-Gateway-Route", "api-key"] and results["target"]["query"] == [
        "api-version"
    ]
    evidence = results["features"]["models.list"]["evidence"][0]["request"]
    assert evidence["headers"]["api-key"] == "***" and evidence["headers"]["x-gateway-route"] == "blue"
    assert evidence["url"].endswith("/models?api-version=2024-10-21")


def test_the_target_file_says_the_same_and_a_flag_wins(
    recorded_mock: tuple[MockServer, RecordingApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, recording = recorded_mock
    monkeypatch.setenv("GATEWAY_KEY", KEY)
    config = tmp_path / "target.yaml"
    config.write_text(
        f"name: Staging gateway\nbase_url: {server.base_url}\napi_key_env: GATEWAY_KEY\n"
        "models: {chat: mock-chat}\n"
        f"headers: {{api-key: {AZURE_KEY}, X-Gateway-Route: green, X-Tenant: 42}}\n"
        "query: {api-version: 2024-06-01, preview: true}\n"
    )
    out = tmp_path / "out"
    args = ["run", "--config", str(config), "--select", "models", "--out", str(out), "--quiet"]
    assert main([*args, "--header", "x-gateway-route: blue", "--query", "api-version=2024-10-21"]) == 0
    for _, query, headers in recording.seen:
        assert headers["x-gateway-route"] == "blue" and headers["x-tenant"] == "42"  # the flag replaced the file's
        assert "api-version=2024-10-21" in query and "preview=true" in query and "2024-06-01" not in query
        assert headers["api-key"] == AZURE_KEY
    assert json.loads((out / "results.json").read_text())["target"]["name"] == "Staging gateway"
    assert main([*args, "--name", "Renamed"]) == 0
    assert json.loads((out / "results.json").read_text())["target"]["name"] == "Renamed"


def _redirect_to(other: Script) -> Any:
    def redirect(script: Script, request: Request, wfile: Any) -> None:
        status = 307 if request.method == "POST" else 302
        location = f"http://127.0.0.1:{other.port}{request.path}"
        wfile.write(f"HTTP/1.1 {status} X\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n".encode())
        wfile.flush()

    return redirect


def _unauthorized(script: Script, request: Request, wfile: Any) -> None:
    error = {"message": "No API key provided.", "type": "invalid_request_error", "param": None, "code": None}
    send_json(wfile, 401, {"error": error})


def test_a_credential_header_never_leaves_for_another_origin() -> None:
    catalog = load_catalog()
    with Script({("*", "*"): _unauthorized}) as elsewhere, Script({("*", "*"): _redirect_to(elsewhere)}) as front:
        target = Target(
            front.base_url,
            Secret(KEY),
            {"chat": "m", "embeddings": "e"},
            timeouts=TEST_TIMEOUTS,
            headers={"api-key": AZURE_KEY, "x-custom-token": "tok-" + AZURE_KEY[::-1], "X-Route": "blue"},
        )
        with Engine(target, catalog) as engine:
            engine.run(catalog.select(["models", "chat.basic", "chat.stream", "embeddings.basic"]))
    assert any(r.headers.get("api-key") == AZURE_KEY for r in front.requests)  # the target got it
    assert elsewhere.requests  # the redirects were followed...
    for request in elsewhere.requests:  # ...without a credential, the other headers kept
        assert "api-key" not in request.headers and "x-custom-token" not in request.headers
        assert not any(AZURE_KEY in value or KEY in value for value in request.headers.values())
        assert request.headers.get("x-route") == "blue"


def test_credential_names_and_redaction_by_name() -> None:
    for name in ("api-key", "Authorization", "x-api-key", "X-Goog-Api-Key", "apikey", "x-custom-token", "Cookie"):
        assert is_credential_name(name), name
    for name in ("x-gateway-route", "api-version", "x-ratelimit-remaining-tokens", "user-agent"):
        assert not is_credential_name(name), name
    masked = Redactor(["k"]).headers({"x-goog-api-key": "whatever-it-is", "apikey": "abc", "api-key": "v"})
    assert set(masked.values()) == {"***"}
    target = Target("http://h/v1", Secret(KEY), {}, headers={"api-key": AZURE_KEY, "x-route": "blue"})
    assert [s.reveal() for s in target.secrets()] == [KEY, AZURE_KEY]
    assert target.request_headers(credentials=False) == {"x-route": "blue"}
    assert AZURE_KEY not in repr(target)
    # what reports may show: the names, never the values
    assert target.describe()["headers"] == ["api-key", "x-route"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--header", "no colon here"], "--header wants 'Name: value'"),
        (["--header", "bad name: x"], "not a valid HTTP header name"),
        (["--query", "novalue"], "--query wants 'name=value'"),
        (["--ca-bundle", "/nonexistent/ca.pem"], "cannot use CA bundle /nonexistent/ca.pem"),
        (["--ca-bundle", "/etc/hostname", "--insecure"], "--ca-bundle and --insecure contradict"),
        (["--base-url", "http://127.0.0.1:9/v1?api-version=1", "--api-key", "k", "--model", "m"], "--query name=value"),
    ],
)
def test_bad_connection_options_are_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", *args, "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_target_options_read_the_file_relative_to_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot use CA bundle"):
        target_options({"ca_bundle": "ca.pem"}, config_path=tmp_path / "target.yaml")
    options = target_options({"insecure": True, "headers": {"A": 1}, "query": {"b": False}})
    assert options.insecure and options.headers == {"A": "1"} and options.query == {"b": "false"}


# --- TLS: a private CA, or no verification -----------------------------------------------------------


class TlsFront:
    """TLS terminated in front of a plain-HTTP server: bytes piped both ways, one thread per direction."""

    def __init__(self, backend_port: int, certfile: Path, keyfile: Path) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certfile, keyfile)
        self.backend_port = backend_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.handshakes_refused = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            client = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            self.handshakes_refused += 1
            raw.close()
            return
        backend = socket.create_connection(("127.0.0.1", self.backend_port))
        threading.Thread(target=self._pipe, args=(backend, client), daemon=True).start()
        self._pipe(client, backend)

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.close()
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def tls_mock(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate to test TLS options with")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    with MockServer(api_key=KEY) as server:
        front = TlsFront(server.port, cert, key)
        try:
            yield f"https://127.0.0.1:{front.port}/v1", cert
        finally:
            front.close()


def test_a_private_ca_or_no_verification_reaches_both_clients(
    tls_mock: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base_url, cert = tls_mock
    # models.list goes through the SDK, errors.auth.missing_key through the raw client
    run = ["run", "--base-url", base_url, "--api-key", KEY, "--model", "mock-chat", "--quiet"]
    run += ["--select", "models.list", "errors.auth.missing_key", "--out", str(tmp_path)]
    assert main(run) == 2  # the certificate is nobody's the system trusts
    err = capsys.readouterr().err
    assert "certificate is not trusted" in err and "--ca-bundle PATH" in err and err.count("\n") == 1
    assert main([*run, "--ca-bundle", str(cert)]) == 0, capsys.readouterr()
    results = json.loads((tmp_path / "results.json").read_text())
    assert {f["status"] for f in results["features"].values()} == {"supported"}
    assert results["target"]["tls"] == "verified against a CA bundle"
    assert main([*run, "--insecure"]) == 0
    assert json.loads((tmp_path / "results.json").read_text())["target"]["tls"] == "not verified (--insecure)"
