"""The wire around the API: routes, redirects, authentication, rate limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.mock.effects import Effects
from conformance.mock.messages import MOVED_PREFIX, ErrorSpec, Incoming, MockResponse
from conformance.mock.quirks._model import NONCONFORMANT, SKIPPED, Quirk, detected
from conformance.mock.quirks._shared import AUTH_FEATURES, THE_GRID, error_body, kinds

# Redirect quirks act on POST /v1/embeddings: a route that exercises the SDK's redirect handling
# with a body, while leaving chat (which most features need) untouched.
REDIRECTED_ROUTE = "/v1/embeddings"
EMBEDDINGS_FEATURES = (
    "embeddings.basic",
    "embeddings.base64",
    "embeddings.batch",
    "embeddings.dimensions",
    "embeddings.input.token_array",
    "embeddings.input.empty_string",
)
# Features that meet a 404 for a path that is not a route (the "route" kind of error).
WRONG_PATH_FEATURES = ("http.path.unknown_route", "http.path.misconfigured_base_url", "http.path.trailing_slash")
NGINX_404 = (
    b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n"
    b"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
Redirect = Callable[[Incoming], "tuple[int, str] | None"]


def _redirect_route(status: int, *, cross_origin: bool = False) -> Redirect:
    """POST /v1/embeddings answered with a redirect to the same route under /moved."""

    def redirect(incoming: Incoming) -> tuple[int, str] | None:
        if incoming.method != "POST" or incoming.path != REDIRECTED_ROUTE:
            return None
        if not cross_origin:
            return status, MOVED_PREFIX + incoming.path
        # the same server under another name: a different origin to httpx (127.0.0.1 vs localhost)
        host, _, port = incoming.headers.get("host", "127.0.0.1").partition(":")
        other = "localhost" if host != "localhost" else "127.0.0.1"
        return status, f"http://{other}{':' + port if port else ''}{MOVED_PREFIX}{incoming.path}"

    return redirect


def _trailing_slash_redirect(status: int) -> Redirect:
    def redirect(incoming: Incoming) -> tuple[int, str] | None:
        path = incoming.path
        if path.startswith("/v1/") and len(path) > 4 and path.endswith("/"):
            return status, path.rstrip("/")
        return None

    return redirect


def _replace(response: MockResponse, status: int, content_type: str | None, body: bytes) -> MockResponse:
    headers = [(k, v) for k, v in response.headers if k.lower() not in ("content-type", "content-length")]
    if content_type:
        headers.insert(0, ("content-type", content_type))
    return MockResponse(status, headers, body)


@kinds("route")
def _html_404(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    return _replace(response, 404, "text/html", NGINX_404)


@kinds("route")
def _empty_404(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    return _replace(response, 404, None, b"")


@kinds("method")
def _method_detail(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    return error_body(response, spec, {"detail": "Method Not Allowed"})


@kinds("auth")
def _plain_text_401(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    return _replace(response, 401, "text/plain; charset=utf-8", b"Unauthorized")


def _bearer_optional(header: str) -> str:
    scheme, _, _ = header.partition(" ")
    return header if not header or scheme.lower() == "bearer" else "Bearer " + header


@kinds("context")
def _context_overflow_500(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    body = {"error": {"code": 500, "message": "Context size has been exceeded.", "type": "server_error"}}
    return error_body(response, spec, body, status=500)


@kinds("context")
def _context_code_integer(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    body = {
        "error": {
            "code": 400,
            "message": f"request exceeds the available context size: {spec.message}",
            "type": "exceed_context_size_error",
            "n_ctx": 8192,
        }
    }
    return error_body(response, spec, body)


@kinds("rate_limit")
def _no_retry_after(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    response.drop_header("retry-after")
    response.drop_header("retry-after-ms")
    return response


@kinds("rate_limit")
def _overload_503(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    body = {"error": "server busy, please try again.  maximum pending requests exceeded"}
    response = error_body(response, spec, body, status=503)
    for header in ("retry-after", "retry-after-ms"):
        response.drop_header(header)
    return response


def _redirect_quirk(status: int, source: str, **verdicts: Any) -> Quirk:
    changes = status in (301, 302, 303)
    what = "turns the POST into a body-less GET" if changes else "keeps the method and body"
    return Quirk(
        f"path.redirect_{status}",
        "http",
        f"POST /v1/embeddings answers {status} to /moved/v1/embeddings (a redirect that {what}).",
        source,
        Effects(redirect=_redirect_route(status)),
        **verdicts,
    )


REDIRECT_SOURCE = (
    "https://github.com/mostlygeek/llama-swap/issues/322, https://github.com/langchain-ai/langserve/issues/304"
)

TABLE: tuple[Quirk, ...] = (
    Quirk(
        "path.html_404",
        "http",
        "A path that is not a route gets nginx's HTML 404 page.",
        "https://github.com/AgentsKit-io/agentskit/issues/1009, https://github.com/QuantumNous/new-api/issues/853",
        Effects(error=_html_404),
        detects=detected(WRONG_PATH_FEATURES),
    ),
    Quirk(
        "path.empty_404",
        "http",
        "A path that is not a route gets 404 with an empty body and no content-type.",
        "https://github.com/UOR-Foundation/uor-r4/issues/764, https://github.com/incoai/splash/issues/47",
        Effects(error=_empty_404),
        detects=detected(WRONG_PATH_FEATURES),
    ),
    Quirk(
        "path.wrong_method_detail",
        "http",
        'A wrong method gets FastAPI\'s `405 {"detail": "Method Not Allowed"}`.',
        "https://github.com/xtekky/gpt4free/issues/2149, https://github.com/vllm-project/vllm/issues/7463",
        Effects(error=_method_detail),
        detects={"http.path.wrong_method": NONCONFORMANT},
    ),
    Quirk(
        "path.trailing_slash_redirect",
        "http",
        "A route with a trailing slash answers 307 to the route without it (Starlette's redirect_slashes).",
        "https://github.com/langchain-ai/langserve/issues/304",
        Effects(redirect=_trailing_slash_redirect(307)),
        notes={"http.path.trailing_slash": "redirect 307"},
    ),
    Quirk(
        "path.trailing_slash_redirect_301",
        "http",
        "A route with a trailing slash answers 301 to the route without it, POST included.",
        "https://github.com/mostlygeek/llama-swap/issues/322, https://github.com/ogx-ai/ogx/issues/2496",
        Effects(redirect=_trailing_slash_redirect(301)),
        detects={"http.path.trailing_slash": NONCONFORMANT},
    ),
    # 301/302/303: the SDK follows as GET /moved/v1/embeddings, which answers 405: every call fails
    *(
        _redirect_quirk(status, REDIRECT_SOURCE, detects=detected(("http.redirect.post", *EMBEDDINGS_FEATURES)))
        for status in (301, 302, 303)
    ),
    # 307/308 keep POST and body: everything works, and the redirect is reported
    *(
        _redirect_quirk(
            status,
            REDIRECT_SOURCE + f"; {THE_GRID} (The Grid: 307 redirects)",
            notes={"http.redirect.post": f"-> {status}"},
        )
        for status in (307, 308)
    ),
    Quirk(
        "path.redirect_cross_origin",
        "http",
        "POST /v1/embeddings answers 307 to the same route on another origin (localhost vs 127.0.0.1), "
        "where the client drops the Authorization header and gets 401.",
        "docs/sdk-facts.md#redirects (httpx strips Authorization across origins); "
        f"{THE_GRID} (The Grid: 307 redirects)",
        Effects(redirect=_redirect_route(307, cross_origin=True)),
        detects=detected(("http.redirect.same_origin", *EMBEDDINGS_FEATURES)),
    ),
    Quirk(
        "path.slash_id_not_decoded",
        "http",
        "Paths are routed without percent-decoding, so `/models/vendor%2Fmodel` (the 3.x SDK's encoding) is not found.",
        "https://github.com/qualcomm/GenieX/issues/640; docs/sdk-facts.md#path-parameters (3.x encodes path params)",
        Effects(route_path=lambda path, incoming: incoming.raw_path),
        detects={"models.retrieve.slash_id": NONCONFORMANT},
    ),
    Quirk(
        "auth.not_enforced",
        "auth",
        "Requests are served without checking the API key at all (a security finding).",
        "https://github.com/langroid/langroid/issues/919, https://github.com/continuedev/continue/issues/9527",
        Effects(no_auth=True),
        # reported as a security finding, never as a compatibility verdict
        detects={"errors.auth.missing_key": SKIPPED, "errors.auth.invalid_key": SKIPPED},
    ),
    Quirk(
        "auth.plain_text_401",
        "auth",
        "401 answers are the text/plain body `Unauthorized` (a gateway's own auth page).",
        "https://github.com/llm-d/llm-d-inference-sim/issues/482; https://github.com/continuedev/continue/issues/9527",
        Effects(error=_plain_text_401),
        detects=detected(AUTH_FEATURES),
    ),
    Quirk(
        "auth.bearer_optional",
        "auth",
        "The key is accepted without the `Bearer ` prefix too (lenient; OpenAI answers 401).",
        f"{THE_GRID} (The Grid: gotcha: the auth header is Bearer, not the raw key)",
        Effects(authorization=_bearer_optional),
        notes={"errors.auth.no_bearer_prefix": "accepted"},
    ),
    Quirk(
        "error.context_overflow_500",
        "errors",
        'A request beyond the context window is answered `500 {"error": {"code": 500, "type": "server_error"}}`.',
        "https://github.com/ggml-org/llama.cpp/issues/19774, https://github.com/ikawrakow/ik_llama.cpp/issues/2420",
        Effects(error=_context_overflow_500),
        detects={"errors.oversized": NONCONFORMANT},
    ),
    Quirk(
        "error.code_integer",
        "errors",
        "A context overflow is 400 with an integer `code`, a custom `type` and no `param`.",
        "https://github.com/ggml-org/llama.cpp/issues/15780",
        Effects(error=_context_code_integer),
        detects={"errors.oversized": NONCONFORMANT},
    ),
    Quirk(
        "rl.retry_after_missing",
        "errors",
        "429 answers carry no Retry-After or retry-after-ms (only x-ratelimit-* headers).",
        "https://github.com/BerriAI/litellm/issues/4695, "
        "https://github.com/anthropics/anthropic-sdk-typescript/issues/357",
        Effects(error=_no_retry_after),
        detects={"errors.rate_limit": NONCONFORMANT},
    ),
    Quirk(
        "rl.overload_as_503_no_hint",
        "errors",
        'Overload is `503 {"error": "server busy, ..."}` with no Retry-After, instead of 429.',
        "https://github.com/ollama/ollama/issues/15934, https://github.com/valentinfrlch/ha-llmvision/issues/648",
        Effects(error=_overload_503),
        detects={"errors.rate_limit": NONCONFORMANT, "errors.rate_limit.stream": NONCONFORMANT},
    ),
)
