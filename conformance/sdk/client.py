"""The pinned openai SDK as the suite drives it: its version, the client factory, exceptions.

This is the one place that knows which HTTP library the installed SDK sends with (``httpx2``
from 3.0 on, ``httpx`` before). Every client it makes sends through the capturing transport, so
it depends on :mod:`conformance.wire` and :mod:`conformance.target`; the status-to-exception
table it applies lives in :mod:`conformance.sdk.types`.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import os
from collections.abc import Iterator
from types import ModuleType

import openai

from conformance.sdk.types import exception_name_for_status
from conformance.target import Target
from conformance.wire import Recorder, capturing_transport, http_timeout

SDK_PACKAGE = "openai"
SDK_VERSION: str = openai.__version__


def _pinned_version() -> str:
    """The version pyproject.toml pins (``openai==X``); the installed one differs only in the
    sessions that test the other SDK lines (noxfile.py)."""
    try:
        requirements = importlib.metadata.requires("openai-conformance") or []
    except importlib.metadata.PackageNotFoundError:
        return SDK_VERSION
    for requirement in requirements:
        name, _, version = requirement.partition("==")
        if name.strip() == SDK_PACKAGE and ";" not in version:
            return version.strip()
    return SDK_VERSION


PINNED_VERSION: str = _pinned_version()

# Environment variables the SDK reads at construction that would change what it sends to the
# target (an OpenAI org id leaking to a vendor, custom headers overriding Authorization).
_SDK_ENV = (
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_CUSTOM_HEADERS",
    "OPENAI_ADMIN_KEY",
    "OPENAI_WEBHOOK_SECRET",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
)


def exception_class_for_status(status: int) -> type[openai.APIStatusError]:
    return getattr(openai, exception_name_for_status(status))


def http_module() -> ModuleType:
    """The HTTP library under the installed SDK's default client."""
    root = openai.DefaultHttpxClient.__mro__[1].__module__.split(".")[0]
    return importlib.import_module(root)


@contextlib.contextmanager
def _isolated_environment() -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in _SDK_ENV if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def make_client(
    target: Target,
    recorder: Recorder,
    *,
    strict: bool,
    api_key: str | None = None,
    base_url: str | None = None,
    default_headers: dict[str, str] | None = None,
) -> openai.OpenAI:
    """An SDK client whose every request goes through the capturing transport.

    ``strict`` turns on the SDK's own response validation (``_strict_response_validation``):
    the strict client is the SDK-acceptance oracle, the lax one is what users run.
    Retries are off: the suite counts and judges every request itself.
    """
    module = http_module()
    timeout = http_timeout(module, target.timeouts)
    transport = capturing_transport(
        module, recorder, target.timeouts, key_guard=(target.origin, target.secrets()), verify=target.verify()
    )
    http_client = openai.DefaultHttpxClient(transport=transport, timeout=timeout, trust_env=False)
    # the target's headers and query parameters (an Azure-style api-key, api-version) on every request;
    # its credential headers go only where its key goes (not with another key: Target.request_headers)
    headers = {**target.request_headers(credentials=api_key is None), **(default_headers or {})}
    with _isolated_environment():
        return openai.OpenAI(
            api_key=api_key if api_key is not None else target.api_key.reveal(),
            base_url=base_url or target.base_url,
            max_retries=0,
            timeout=timeout,
            http_client=http_client,
            default_headers=headers or None,
            default_query=dict(target.query) or None,
            _strict_response_validation=strict,
        )


# The client's resources the checks call: each imports its modules (and builds their response
# models) on first use, about 0.4 s of CPU under the GIL, which stalls every check in flight.
RESOURCES = ("chat.completions", "completions", "embeddings", "models", "responses", "images",
             "audio.speech", "audio.transcriptions", "moderations", "batches", "files", "fine_tuning.jobs",
             "beta.assistants")  # fmt: skip


def load_resources() -> None:
    """Import the SDK's resources before checks run on several threads (no request is sent)."""
    with _isolated_environment():
        client = openai.OpenAI(api_key="unused", base_url="http://127.0.0.1:9/v1", max_retries=0)
    try:
        for path in RESOURCES:
            resource: object = client
            for name in path.split("."):
                resource = getattr(resource, name, None)
    finally:
        client.close()


def describe_exception(exc: BaseException) -> str:
    """One line naming an SDK exception the way a user would see it."""
    name = type(exc).__name__
    if isinstance(exc, openai.APIStatusError):
        return f"{name} (HTTP {exc.status_code}): {_first_line(str(exc.message))}"
    return f"{name}: {_first_line(str(exc))}"


def _first_line(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
