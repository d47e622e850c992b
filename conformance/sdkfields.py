"""Paths into the pinned SDK's types, as the catalog's ``sdk_fields`` write them.

A path starts at a root type and follows field names; ``[]`` steps into list items:
``ChatCompletion.choices[].message.content``. Unions are followed into every member that has
the field (message params are a union by role), so a path resolves when any member has it.

A *field* here is a pair (declaring type, field name): the unit the coverage report counts.
"""

from __future__ import annotations

import importlib
import re
import types
import typing
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from typing import Any

import typing_extensions

# Root name -> (defining module, class). Names are the ones a reader knows from the SDK's docs; the
# module is where the class is defined, which is also its key in a stored surface (conformance.surface).
ROOTS: dict[str, tuple[str, str]] = {
    "ChatCompletionCreateParams": ("openai.types.chat.completion_create_params", "CompletionCreateParamsBase"),
    "ChatCompletion": ("openai.types.chat.chat_completion", "ChatCompletion"),
    "ChatCompletionChunk": ("openai.types.chat.chat_completion_chunk", "ChatCompletionChunk"),
    "Model": ("openai.types.model", "Model"),
    "EmbeddingCreateParams": ("openai.types.embedding_create_params", "EmbeddingCreateParams"),
    "CreateEmbeddingResponse": ("openai.types.create_embedding_response", "CreateEmbeddingResponse"),
    # endpoints probed for presence (conformance/checks/endpoints.py)
    "CompletionCreateParams": ("openai.types.completion_create_params", "CompletionCreateParamsBase"),
    "Completion": ("openai.types.completion", "Completion"),
    "ResponseCreateParams": ("openai.types.responses.response_create_params", "ResponseCreateParamsBase"),
    "Response": ("openai.types.responses.response", "Response"),
    "ImageGenerateParams": ("openai.types.image_generate_params", "ImageGenerateParamsBase"),
    "ImagesResponse": ("openai.types.images_response", "ImagesResponse"),
    "TranscriptionCreateParams": ("openai.types.audio.transcription_create_params", "TranscriptionCreateParamsBase"),
    "Transcription": ("openai.types.audio.transcription", "Transcription"),
    "SpeechCreateParams": ("openai.types.audio.speech_create_params", "SpeechCreateParams"),
    "BatchListParams": ("openai.types.batch_list_params", "BatchListParams"),
    "FileListParams": ("openai.types.file_list_params", "FileListParams"),
    "JobListParams": ("openai.types.fine_tuning.job_list_params", "JobListParams"),
    "AssistantListParams": ("openai.types.beta.assistant_list_params", "AssistantListParams"),
    "APIError": ("openai", "APIError"),
    "APIStatusError": ("openai", "APIStatusError"),
}
# Roots probed for presence only: a pin-bump diff counts their own fields in the catalog's scope,
# not everything nested in them (a Response nests hundreds of types the presence check never reads).
PRESENCE_ROOTS = frozenset(
    {
        "CompletionCreateParams",
        "Completion",
        "ResponseCreateParams",
        "Response",
        "ImageGenerateParams",
        "ImagesResponse",
        "TranscriptionCreateParams",
        "Transcription",
        "SpeechCreateParams",
        "BatchListParams",
        "FileListParams",
        "JobListParams",
        "AssistantListParams",
    }
)
# Body fields that live on the create() call, not on the params TypedDict (dossier §8).
CALL_FIELDS: dict[str, dict[str, Any]] = {"ChatCompletionCreateParams": {"stream": bool}}

_SEGMENT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<list>\[\])?$")

Pair = tuple[Any, str]  # (declaring type, field name)


class UnresolvedField(LookupError):
    pass


def root_type(name: str) -> Any:
    module, attr = ROOTS[name]
    return getattr(importlib.import_module(module), attr)


def _unwrap(tp: Any) -> list[Any]:
    """Strip Optional/Union/Required/Annotated/aliases down to the concrete member types."""
    origin = typing_extensions.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing_extensions.get_args(tp) for m in _unwrap(arg)]
    if origin in (typing_extensions.Required, typing_extensions.NotRequired, typing_extensions.Annotated):
        return _unwrap(typing_extensions.get_args(tp)[0])
    if tp is type(None):
        return []
    return [tp]


def _is_list(tp: Any) -> bool:
    origin = typing_extensions.get_origin(tp)
    if origin in (list, tuple, set, frozenset):
        return True
    return isinstance(origin, type) and issubclass(origin, Iterable) and not issubclass(origin, (str, bytes, Mapping))


def _items(members: Sequence[Any]) -> list[Any]:
    """The element types of the list-like members."""
    return [item for m in members if _is_list(m) for arg in typing_extensions.get_args(m)[:1] for item in _unwrap(arg)]


@cache
def fields_of(tp: Any) -> dict[str, Any]:
    """Declared fields of a pydantic model, a TypedDict, or an annotated class (wire aliases)."""
    model_fields = getattr(tp, "model_fields", None)
    if isinstance(model_fields, dict):
        return {info.alias or name: info.annotation for name, info in model_fields.items()}
    builtin = isinstance(tp, type) and issubclass(tp, (str, int, float, bool, bytes, list, dict, tuple))
    if typing_extensions.is_typeddict(tp) or (isinstance(tp, type) and not builtin):
        try:
            hints = typing_extensions.get_type_hints(tp, include_extras=True)
        except Exception:  # an unresolvable forward reference: fall back to the names only
            hints = {name: Any for name in getattr(tp, "__annotations__", {})}
        return {name: hint for name, hint in hints.items() if not name.startswith("_")}
    return {}


def _step(current: Sequence[Any], name: str, as_list: bool, root: str | None) -> tuple[list[Any], list[Pair]]:
    """Follow one path segment from ``current``: the types reached, and the fields crossed."""
    found: list[Any] = []
    pairs: list[Pair] = []
    for tp in current:
        fields = fields_of(tp)
        if name in fields:
            found.extend(_unwrap(fields[name]))
            pairs.append((tp, name))
    if not found and root is not None and name in CALL_FIELDS.get(root, {}):
        found, pairs = [CALL_FIELDS[root][name]], [(current[0], name)]
    if as_list:
        found = _items(found)
    return found, pairs


def walk(path: str) -> tuple[list[Any], list[Pair]]:
    """The types at the end of ``path`` and every field it crosses; :class:`UnresolvedField` if none."""
    root, _, rest = path.partition(".")
    if root not in ROOTS:
        raise UnresolvedField(f"{path}: unknown root type {root!r} (known: {', '.join(ROOTS)})")
    current: list[Any] = [root_type(root)]
    crossed: list[Pair] = []
    for index, segment in enumerate(rest.split(".") if rest else []):
        match = _SEGMENT.match(segment)
        if not match:
            raise UnresolvedField(f"{path}: bad segment {segment!r}")
        found, pairs = _step(current, match.group("name"), bool(match.group("list")), root if index == 0 else None)
        if not pairs:
            names = ", ".join(getattr(t, "__name__", str(t)) for t in current)
            raise UnresolvedField(f"{path}: no field {match.group('name')!r} in {names}")
        if match.group("list") and not found:
            raise UnresolvedField(f"{path}: {match.group('name')!r} is not a list")
        crossed += pairs
        current = found
    return current, crossed


def resolve(path: str) -> list[Any]:
    """The types at ``path``; raise :class:`UnresolvedField` when no union member has it."""
    return walk(path)[0]


def _children(annotation: Any) -> Iterator[tuple[str, Any]]:
    """Structured types under a field: (path suffix, type), ``[]`` for list items."""
    members = _unwrap(annotation)
    for item in _items(members):
        if fields_of(item):
            yield "[]", item
    for member in members:
        if not _is_list(member) and fields_of(member):
            yield "", member


def reachable(start: Iterable[tuple[str, Any]]) -> dict[Pair, str]:
    """Every field reachable from (path, type) starting points, with the first path that reaches it."""
    found: dict[Pair, str] = {}
    queue = deque(start)
    seen_types: set[Any] = set()
    while queue:
        path, tp = queue.popleft()
        if tp in seen_types:
            continue
        seen_types.add(tp)
        for name, annotation in fields_of(tp).items():
            found.setdefault((tp, name), f"{path}.{name}")
            for suffix, child in _children(annotation):
                queue.append((f"{path}.{name}{suffix}", child))
    return found


def all_fields(root: str) -> dict[Pair, str]:
    """Every field of a root type and of the types nested in it."""
    fields = reachable([(root, root_type(root))])
    for name in CALL_FIELDS.get(root, {}):
        fields[(root_type(root), name)] = f"{root}.{name}"
    return fields


def subtree(path: str) -> set[Pair]:
    """The field a path ends on, and every field nested under it."""
    end, crossed = walk(path)
    last = {pair for pair in crossed if pair[1] == path.rsplit(".", 1)[-1].removesuffix("[]")}
    starts = [(path, tp) for tp in end if fields_of(tp)] + [
        (f"{path}[]", item) for item in _items(end) if fields_of(item)
    ]
    nested = reachable(starts)
    return last | set(nested)


def type_label(tp: Any, ambiguous: set[str]) -> str:
    """A readable name for a type; the module disambiguates names the SDK uses twice (Choice...)."""
    name = getattr(tp, "__name__", str(tp))
    if name in ambiguous:
        return f"{tp.__module__.rsplit('.', 1)[-1]}.{name}"
    return name
