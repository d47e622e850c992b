"""The one redaction rule."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from conformance.redact import MASK, Redactor
from conformance.target import Secret

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
