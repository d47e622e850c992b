"""The SDK facts the suite relies on, proven against the installed SDK."""

from __future__ import annotations

import subprocess
import sys

import httpx
import openai
import pytest

from conformance import sdk
from conformance.sdk import SDK_VERSION, exception_name_for_status, http_module


@pytest.mark.parametrize(
    "status", [301, 307, 400, 401, 402, 403, 404, 405, 408, 409, 410, 413, 415, 422, 429, 500, 501, 502, 503, 599]
)
def test_status_to_exception_table_matches_the_installed_sdk(status: int) -> None:
    client = openai.OpenAI(api_key="x", base_url="http://127.0.0.1:9/v1")
    module = http_module()
    response = module.Response(status, request=module.Request("POST", "http://127.0.0.1:9/v1/chat/completions"))
    error = client._make_status_error("m", body=None, response=response)
    assert type(error).__name__ == exception_name_for_status(status)


def test_the_pinned_version_is_the_one_installed() -> None:
    assert SDK_VERSION == openai.__version__


def test_http_module_is_the_sdk_transport_library() -> None:
    module = http_module()
    assert module.__name__ in ("httpx", "httpx2")
    if int(SDK_VERSION.split(".")[0]) >= 3:
        assert module is not httpx


def test_the_package_exports_what_the_suite_imports_from_it() -> None:
    for name in sdk.__all__:
        assert getattr(sdk, name) is not None, name


def test_the_status_table_loads_without_the_sdk_or_the_wire_layer() -> None:
    # conformance.envelope needs only exception names: that must not cost importing the SDK
    code = (
        "import sys; from conformance.sdk import exception_name_for_status; "
        "print([m for m in ('openai', 'conformance.wire', 'conformance.sdk.client') if m in sys.modules])"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
