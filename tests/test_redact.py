"""The one redaction rule."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.redact import MASK, Redactor, carries_secret
from conformance.target import Secret
from conformance.wire import RecordedExchange

KEY = "sk-live-4f8a9b7c6d5e4f3a2b1c"


def test_headers_mask_credentials_but_keep_the_scheme() -> None:
    redactor = Redactor([KEY])
    headers = redactor.headers(
        [("Authorization", f"Bearer {KEY}"), ("api-key", KEY), ("X-Trace", KEY), ("content-type", "application/json")]
    )
    assert headers["authorization"] == f"Bearer {MASK}"
    assert headers["api-key"] == MASK
    assert KEY not in headers["x-trace"]
    assert headers["content-type"] == "application/json"


def test_text_url_and_structures() -> None:
    redactor = Redactor([KEY])
    assert KEY not in redactor.text(f"Incorrect API key provided: {KEY}.")
    assert "user:pw" not in redactor.url("https://user:pw@api.example/v1")
    assert redactor.obj({"a": [f"x {KEY} y"], KEY: 1}) == {"a": [f"x {MASK} y"], MASK: 1}
    # key-shaped strings a server echoes (its own masked form included) are masked too
    assert "sk-proj-abcdefgh" not in Redactor().text("key sk-proj-abcdefghijk is wrong")
    assert redactor.text("Authorization: Bearer abc.def") == f"Authorization: Bearer {MASK}"


@given(prefix=st.text(max_size=30), suffix=st.text(max_size=30))
def test_the_key_never_survives(prefix: str, suffix: str) -> None:
    assert KEY not in Redactor([KEY]).text(prefix + KEY + suffix)


def test_a_secret_never_prints_itself() -> None:
    secret = Secret(KEY)
    assert KEY not in str(secret) and KEY not in repr(secret) and KEY not in f"{secret}"
    assert secret.reveal() == KEY


# --- short keys: masked where they are sent and where a server echoes them, never as a substring --------

# Characters a short key may be made of: letters and digits, and what JSON and prose are full of.
# No whitespace (a key in a header has none) and no "#", which the untouched text below uses to
# keep each occurrence of the key out of any echo context.
_KEY_ALPHABET = "aex1Y0:\"'{}[],.-_*/\\=&?%+~@!"
SHORT_KEYS = st.one_of(
    st.sampled_from(["x", "a", "e", ":", "1", '"', "*", "key", "token", "Bearer", "sk-test"]),
    st.text(alphabet=_KEY_ALPHABET, min_size=1, max_size=7),
)
ECHO_MESSAGE = (
    "Incorrect API key provided: {}. You can find your API key at https://platform.openai.com/account/api-keys."
)


def _echoing_exchange(key: str) -> RecordedExchange:
    """A request that sends ``key`` every way a client does, answered by a server that echoes it every way
    servers do, with field names and text that merely contain its characters."""
    plain = f"{key}#max_tokens#say {key}#ma{key}_tokens"
    request = {
        "model": "m",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": plain}],
        key: 1,
        f"ma{key}_tokens": 2,
    }
    response = {
        "error": {"message": ECHO_MESSAGE.format(key), "type": "invalid_request_error", "param": None},
        "api_key": key,
        "text": plain,
        "index": 0,
    }
    exchange = RecordedExchange(
        method="POST",
        url=f"http://127.0.0.1:9/v1/chat/completions?api-key={quote(key, safe='')}&n=1",
        request_headers=[
            ("authorization", f"Bearer {key}"),
            ("api-key", key),
            ("x-echo", key),
            ("x-stainless-os", "Linux"),
            ("content-type", "application/json"),
        ],
        request_body=json.dumps(request).encode(),
        started=0.0,
    )
    exchange.status = 401
    exchange.response_headers = [("content-type", "application/json"), ("x-api-key-echo", key), ("x-count", key)]
    exchange.body += json.dumps(response).encode()
    exchange.body_bytes = len(exchange.body)
    exchange.failure = None
    return exchange


def _names(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {name for k, v in value.items() for name in {k, *_names(v)}}
    if isinstance(value, list):
        return {name for item in value for name in _names(item)}
    return set()


@given(key=SHORT_KEYS)
def test_a_short_key_leaves_reports_whole_and_its_echoes_masked(key: str) -> None:
    redactor = Redactor([key])
    assert redactor.mode == "sent_only"
    exchange = _echoing_exchange(key)
    evidence = exchange.to_evidence(redactor)
    # the report stays valid JSON, with every field name as it was
    assert json.loads(json.dumps(evidence)) == evidence
    raw = {"request": json.loads(exchange.request_body), "response": json.loads(bytes(exchange.body))}
    assert _names(evidence["request"]["body"]) == _names(raw["request"])
    assert _names(evidence["response"]["body"]) == _names(raw["response"])
    # text that merely contains the key is left alone
    plain = f"{key}#max_tokens#say {key}#ma{key}_tokens"
    assert evidence["request"]["body"]["messages"][0]["content"] == plain
    assert evidence["response"]["body"]["text"] == plain
    # where it was sent or echoed, it is masked
    sent = evidence["request"]["headers"]
    assert (sent["authorization"], sent["api-key"], sent["x-echo"]) == (f"Bearer {MASK}", MASK, MASK)
    assert sent["x-stainless-os"] == "Linux"
    answered = evidence["response"]["headers"]
    assert (answered["x-api-key-echo"], answered["x-count"]) == (MASK, key)  # an echo; a value that equals it
    query = dict(parse_qsl(urlsplit(evidence["request"]["url"]).query))
    assert query == {"api-key": MASK, "n": "1"}
    assert evidence["response"]["body"]["error"]["message"] == ECHO_MESSAGE.format(MASK)
    assert evidence["response"]["body"]["api_key"] == MASK


@pytest.mark.parametrize("key", ["aaaaaaaa", "12121212", "abcabcab"])
def test_a_long_key_of_few_characters_is_masked_as_a_short_one(key: str) -> None:
    redactor = Redactor([key])
    assert redactor.mode == "sent_only"
    assert redactor.text(f"id {key}{key}") == f"id {key}{key}"
    assert redactor.text(f"Incorrect API key provided: {key}.") == f"Incorrect API key provided: {MASK}."


def test_a_real_key_is_still_masked_everywhere() -> None:
    redactor = Redactor([KEY])
    assert redactor.mode == "full" and redactor.describe()["mode"] == "full"
    assert redactor.text(f"id-{KEY}-suffix") == f"id-{MASK}-suffix"
    assert Redactor().describe() == {"mode": "full", "reason": "no API key was configured"}


def test_a_short_key_is_found_in_a_header_as_a_token_only() -> None:
    assert carries_secret("Bearer x", "x") and carries_secret("x", "x")
    assert not carries_secret("Linux", "x") and not carries_secret("x64", "x")
    assert carries_secret(f"prefix{KEY}", KEY)  # a real key is found anywhere, as before
