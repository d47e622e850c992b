"""The one redaction rule: what may never leave the process in a report, log or transcript.

A secret is masked in one of two modes, and a run says which (``results.json`` ``redaction``):

* ``full``: every occurrence, as a substring of any text. Safe for a real key: 8 or more
  characters, 4 or more of them distinct, do not turn up in a report by chance.
* ``sent_only``, for a key shorter than that (``x``, ``test``, ``1234``) or made of a few repeated
  characters (``aaaaaaaa``): masking it everywhere would damage every report (``x`` is in
  ``max_tokens``, ``1`` in every number), so it is masked where it is *sent* (any request header
  whose value holds it as a whole token, which is what the transport's key guard withholds;
  credential-named query parameters) and where a server plainly *echoes* it (a credential-named
  header or JSON field holding it; after ``Bearer``; after "API key", "key", "token"... and a
  ``:`` or ``=`` or "provided", as in ``Incorrect API key provided: x.``), never as a bare
  substring of other text.

Credential headers, ``Bearer`` tokens, URL userinfo and OpenAI-shaped keys (``sk-...``) are masked
in both modes, whatever key the run holds.

Depends on nothing else in the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

# Header names whose values are credentials wherever they appear (request or response).
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "openai-api-key",
        "ocp-apim-subscription-key",
        "cookie",
        "set-cookie",
        # keys of gateways and clouds that vendors front their endpoints with (a target's ``headers``)
        "apikey",
        "x-goog-api-key",
        "x-functions-key",
        "x-auth-token",
        "x-access-token",
        "private-token",
    }
)

# A secret is masked everywhere only from this length and this many distinct characters on. Eight
# characters of a key's alphabet (62 and more symbols) match a given place in a report with odds
# below 1 in 10^14, so a megabyte of evidence shows one by chance about once in 10^8 runs; below
# that, or with three symbols or fewer, a key is a word, a number or a run of one character that
# field names, prose and base64 bodies contain (``x`` in ``max_tokens``: 607 masks in one run).
FULL_MASK_MIN_LENGTH = 8
FULL_MASK_MIN_DISTINCT = 4

# Key-shaped strings (OpenAI style) that a server may echo back, e.g. in a 401 message.
_KEY_SHAPED = re.compile(r"\bsk-[A-Za-z0-9_*\-]{8,}")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',]+")

# Words that name a credential, in prose ("API key"), a header or a field (``api_key``, ``x-api-key``).
_CREDENTIAL = (
    r"(?:api[\s_-]?key|access[\s_-]?key|secret[\s_-]?key|key|token|secret|password|passwd|credentials?"
    r"|authorization)"
)
# A header, field or query parameter named for a credential: ``api_key``, ``x-api-key-echo``, ``token``.
_CREDENTIAL_NAME = re.compile(rf"(?i)(?:^|[_-]){_CREDENTIAL}(?:$|[_-])")
# What stands between such a word and a value it introduces: a closing quote (a JSON field), an
# optional verb ("provided", "received") and a `:` or `=`; or the verb alone before a quoted value.
# (Case-insensitive itself; the key after it is matched as it is.)
_ECHO_LEAD = (
    rf"(?i:(?<![A-Za-z0-9_]){_CREDENTIAL}[\"']?"
    r"(?:(?:\s+(?:provided|received|given|passed|sent|used|is|was))?\s*[:=]\s*[\"'`]?"
    r"|\s+(?:provided|received|given|passed|sent|used|is|was)?\s*[\"'`]))"
)
# An echo ends where the key does: not before another character a key is made of (so "x" is not
# found in "xy" nor in "x.y"), a full stop that ends the sentence aside.
_KEY_CHAR = r"[A-Za-z0-9_\-.~+/]"
_KEY_ENDS = r"(?![A-Za-z0-9_\-~+/]|\.[A-Za-z0-9_\-~+/])"


def is_credential_name(name: str) -> bool:
    """Whether a header or query parameter of this name carries a credential (``api-key``,
    ``Authorization``, ``x-api-key``, ``token``...): a target's such headers are secrets of the run,
    masked in evidence and withheld from other origins like the key."""
    lowered = name.strip().lower()
    return lowered in SENSITIVE_HEADERS or bool(_CREDENTIAL_NAME.search(lowered))


def masks_everywhere(secret: str) -> bool:
    """Whether ``secret`` can be masked as a substring of any text without damaging it."""
    return len(secret) >= FULL_MASK_MIN_LENGTH and len(set(secret)) >= FULL_MASK_MIN_DISTINCT


def carries_secret(value: str, secret: str) -> bool:
    """Whether a header or query value carries ``secret``: anywhere in it when the secret is masked
    everywhere, else as a whole token of it (``Bearer x``, ``x``; never the ``x`` in ``Linux``)."""
    if not secret:
        return False
    if masks_everywhere(secret):
        return secret in value
    return secret in _tokens(value)


def _tokens(value: str) -> list[str]:
    return [token for token in re.split(r"[\s,;]+", value) if token]


class Redactor:
    """Removes known secrets and anything credential-shaped from text and structures."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        chosen = {s for s in secrets if s}
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted((s for s in chosen if masks_everywhere(s)), key=len, reverse=True)
        self._short = sorted((s for s in chosen if not masks_everywhere(s)), key=len, reverse=True)
        self._echoes = [_echo_of(s) for s in self._short]

    # --- what the run says about it ---------------------------------------------------------------
    @property
    def mode(self) -> str:
        """``full`` (every secret masked wherever it appears) or ``sent_only`` (see the module)."""
        return "sent_only" if self._short else "full"

    def describe(self) -> dict[str, str]:
        """The run's redaction mode and why, for ``results.json`` (never the key, nor its length)."""
        if self._short:
            reason = (
                f"the API key is shorter than {FULL_MASK_MIN_LENGTH} characters or has fewer than "
                f"{FULL_MASK_MIN_DISTINCT} distinct ones, so it would match ordinary text: it is masked where it is "
                "sent (request headers, credential query parameters) and where a server echoes it as a key "
                "(credential headers and fields, 'API key provided: ...'), not as a substring of other text"
            )
            return {"mode": "sent_only", "reason": reason}
        if self._secrets:
            return {"mode": "full", "reason": "the API key is masked wherever it appears"}
        return {"mode": "full", "reason": "no API key was configured"}

    # --- masking ----------------------------------------------------------------------------------
    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, MASK)
        for echo in self._echoes:
            value = echo.sub(lambda m: f"{m.group(1)}{MASK}", value)
        value = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", value)
        return _KEY_SHAPED.sub(MASK, value)

    def url(self, value: str) -> str:
        parts = urlsplit(value)
        if parts.username or parts.password:
            host = parts.hostname or ""
            if parts.port:
                host = f"{host}:{parts.port}"
            parts = parts._replace(netloc=f"{MASK}@{host}")
            value = urlunsplit(parts)
        if self._short and parts.query:
            pairs = parse_qsl(parts.query, keep_blank_values=True)
            masked = [
                (name, self._tokens_masked(item) if _CREDENTIAL_NAME.search(name) else item) for name, item in pairs
            ]
            if masked != pairs:
                value = urlunsplit(parts._replace(query=urlencode(masked, safe="*")))
        return self.text(value)

    def headers(self, headers: Iterable[tuple[str, str]] | Mapping[str, str], *, sent: bool = False) -> dict[str, str]:
        """Headers with credentials masked; ``sent`` for a request's (a short key is masked in any of them)."""
        items = headers.items() if isinstance(headers, Mapping) else headers
        redacted: dict[str, str] = {}
        for name, value in items:
            lowered = name.lower()
            if lowered in SENSITIVE_HEADERS:
                scheme = value.split(" ", 1)[0] if " " in value else ""
                value = f"{scheme} {MASK}" if scheme else MASK
            else:
                if sent or _CREDENTIAL_NAME.search(lowered):
                    value = self._tokens_masked(value)
                value = self.text(value)
            # Repeated headers are joined, as HTTP allows.
            redacted[lowered] = f"{redacted[lowered]}, {value}" if lowered in redacted else value
        return redacted

    def obj(self, value: Any) -> Any:
        """Redact every string inside a JSON-like structure."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self._field(str(k), v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.obj(v) for v in value]
        return value

    def _field(self, name: str, value: Any) -> Any:
        # a credential-named field holding a short key is its echo (``{"api_key": "x"}``)
        if isinstance(value, str) and _CREDENTIAL_NAME.search(name):
            value = self._tokens_masked(value)
        return self.obj(value)

    def _tokens_masked(self, value: str) -> str:
        """A value with every whitespace-, comma- or semicolon-separated token that is a short key masked."""
        if not self._short:
            return value
        if value in self._short:
            return MASK
        parts = re.split(r"([\s,;]+)", value)
        return "".join(MASK if part in self._short else part for part in parts)


def _echo_of(secret: str) -> re.Pattern[str]:
    """The pattern of ``secret`` echoed after an echo lead (group 1); never where a mask already
    stands, so masking twice changes nothing, even for a key like ``*``."""
    ends = _KEY_ENDS if re.fullmatch(_KEY_CHAR, secret[-1]) else ""
    return re.compile(rf"({_ECHO_LEAD})(?!{re.escape(MASK)}){re.escape(secret)}{ends}")
