"""The one redaction rule: what may never leave the process in a report, log or transcript.

Depends on nothing else in the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
    }
)

# Key-shaped strings (OpenAI style) that a server may echo back, e.g. in a 401 message.
_KEY_SHAPED = re.compile(r"\bsk-[A-Za-z0-9_*\-]{8,}")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',]+")


class Redactor:
    """Removes known secrets and anything credential-shaped from text and structures."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, MASK)
        value = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", value)
        return _KEY_SHAPED.sub(MASK, value)

    def url(self, value: str) -> str:
        parts = urlsplit(value)
        if parts.username or parts.password:
            host = parts.hostname or ""
            if parts.port:
                host = f"{host}:{parts.port}"
            value = urlunsplit((parts.scheme, f"{MASK}@{host}", parts.path, parts.query, parts.fragment))
        return self.text(value)

    def headers(self, headers: Iterable[tuple[str, str]] | Mapping[str, str]) -> dict[str, str]:
        items = headers.items() if isinstance(headers, Mapping) else headers
        redacted: dict[str, str] = {}
        for name, value in items:
            lowered = name.lower()
            if lowered in SENSITIVE_HEADERS:
                scheme = value.split(" ", 1)[0] if " " in value else ""
                value = f"{scheme} {MASK}" if scheme else MASK
            else:
                value = self.text(value)
            # Repeated headers are joined, as HTTP allows.
            redacted[lowered] = f"{redacted[lowered]}, {value}" if lowered in redacted else value
        return redacted

    def obj(self, value: Any) -> Any:
        """Redact every string inside a JSON-like structure."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.obj(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.obj(v) for v in value]
        return value
