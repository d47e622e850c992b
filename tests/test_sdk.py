"""The SDK facts the suite relies on, proven against the installed SDK."""

from __future__ import annotations

import httpx
import openai
import pytest

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
