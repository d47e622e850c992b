"""Real vendors' wire bugs, as data: switch one on and the mock misbehaves the way they did.

Every quirk names its source (the public reports behind it: GitHub issues, vendor docs;
docs/quirk-sources.md lists them by bug ID) and the features that must change verdict when it is
on (``detects``); the test suite runs every check against every quirk and fails when anything
else changes, or when nothing does. Quirks marked ``benign`` are deviations the contract allows
(valid SSE variants, additive fields): they must change no verdict at all, which is how the suite
proves it does not cry wolf.
"""

from __future__ import annotations

from collections.abc import Sequence

from conformance.mock.quirks import (
    batches,
    chat,
    documented,
    embeddings,
    endpoints,
    errors,
    http,
    media,
    model_behaviour,
    models,
    responses,
    streaming,
    strict,
    structured,
    tools,
)
from conformance.mock.quirks._model import NONCONFORMANT, UNSUPPORTED, Quirk

_TABLES = (
    models.TABLE,
    chat.TABLE,
    streaming.TABLE,
    tools.TABLE,
    structured.TABLE,
    errors.TABLE,
    http.TABLE,
    embeddings.TABLE,
    endpoints.TABLE,
    responses.TABLE,
    batches.TABLE,
    media.TABLE,
    documented.TABLE,
    model_behaviour.TABLE,
    strict.TABLE,
)
QUIRKS: dict[str, Quirk] = {quirk.id: quirk for table in _TABLES for quirk in table}
assert len(QUIRKS) == sum(len(table) for table in _TABLES), "duplicate quirk id"


class UnknownQuirk(KeyError):
    pass


def resolve_quirks(names: Sequence[str | Quirk]) -> list[Quirk]:
    resolved = []
    for name in names:
        if isinstance(name, Quirk):
            resolved.append(name)
        elif name in QUIRKS:
            resolved.append(QUIRKS[name])
        else:
            raise UnknownQuirk(f"unknown quirk {name!r}; `conformance mock --list-quirks` lists them")
    return resolved


__all__ = ["NONCONFORMANT", "QUIRKS", "UNSUPPORTED", "Quirk", "UnknownQuirk", "resolve_quirks"]
