"""The catalog's field paths (``sdk_fields`` and ``not_covered`` in matrix.yaml), parsed and walked.

A path starts at a root type (:func:`conformance.sdk.types.locate`) and follows field names; ``[]``
steps into list items: ``ChatCompletion.choices[].message.content``. Unions are followed into every
member that has the field (message params are a union by role), so a path resolves when any member
has it. A segment that is a class name (fields never start with a capital) keeps only that member of
the union the path stands on: ``Response.output[].McpCall.server_label``, where ``output[].server_label``
would name the field in every item type that has one. A *field* is a pair (declaring type, field
name): the unit coverage reports and diffs count.

The grammar is parsed here once and walked here once, over a :class:`TypeGraph`. There are two
graphs, because their speed differs: the installed SDK's classes (:mod:`conformance.sdk.live`, a
fraction of a second, for ``conformance coverage``) and a stored surface's JSON Schema
(:mod:`conformance.sdk.surface.model`, seconds to extract, for diffs between SDK lines that are not
installed).

Depends on :mod:`conformance.sdk.types` only.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from conformance.sdk.types import CALL_FIELDS, ROOTS, locate

K = TypeVar("K", bound=Hashable)  # how a graph names a type: a class, or a stored surface's type key

Pair = tuple[K, str]  # a field: (declaring type, field name)

# a field is named as it is on the wire: the SDK's alias where it has one (moderation categories such
# as ``self-harm/intent`` are Python attributes ``self_harm_intent``)
_SEGMENT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_/-]*)(?P<list>\[\])?$")


class UnresolvedField(LookupError):
    pass


class TypeGraph(Protocol[K]):
    """SDK types and the fields between them, as the walk needs them. A field's type is a *node*
    the graph hands out and reads back (an annotation, a schema): the walk never looks inside."""

    def root(self, name: str) -> K:
        """The type a root name stands for (:func:`~conformance.sdk.types.locate`); a LookupError
        when there is none."""
        ...

    def fields(self, key: K) -> Mapping[str, Any]:
        """A type's fields: name -> the field's type node."""
        ...

    def members(self, node: Any) -> list[K]:
        """The types a field holds, through unions (not into lists or maps)."""
        ...

    def items(self, node: Any) -> list[K] | None:
        """The types of a list field's items, through unions; None when the field is no list."""
        ...

    def values(self, node: Any) -> list[K]:
        """The types of a map field's values."""
        ...

    def name(self, key: K) -> str:
        """A type's name, for messages."""
        ...

    def class_name(self, key: K) -> str:
        """The bare name of a type's class, as a member segment names it."""
        ...


@dataclass(frozen=True)
class Segment:
    name: str
    is_list: bool  # ``name[]``: go on into the list's items


@dataclass(frozen=True)
class FieldPath:
    text: str
    root: str
    segments: tuple[Segment, ...]


def parse(path: str) -> FieldPath:
    """A path's root and segments; :class:`UnresolvedField` for a bad segment. The root is the
    graph's to resolve (:func:`root_of`): a stored surface knows classes the installed SDK lacks."""
    root, _, rest = path.partition(".")
    segments = []
    for segment in rest.split(".") if rest else []:
        match = _SEGMENT.match(segment)
        if not match:
            raise UnresolvedField(f"{path}: bad segment {segment!r}")
        segments.append(Segment(match.group("name"), bool(match.group("list"))))
    return FieldPath(path, root, tuple(segments))


def root_of(graph: TypeGraph[K], path: FieldPath) -> K:
    """The type a path starts from; :class:`UnresolvedField` when the graph has no type by that name
    (a class the installed SDK does not export, or a stored surface does not hold)."""
    try:
        return graph.root(path.root)
    except (LookupError, ImportError, AttributeError):
        why = "the SDK exports no class by that name" if locate(path.root) is None else "this SDK line lacks it"
        raise UnresolvedField(
            f"{path.text}: unknown root type {path.root!r} ({why}; pinned: {', '.join(ROOTS)})"
        ) from None


@dataclass(frozen=True)
class _Step:
    crossed: list[Pair[Any]]  # the fields this segment crosses (one per union member that has it)
    reached: list[Any]  # the types the path goes on from
    items: list[Any]  # the crossed fields' list items when the segment does not step into them


def _steps(graph: TypeGraph[K], path: FieldPath) -> Iterator[_Step]:
    current = [root_of(graph, path)]
    dead_end = ""  # what the path stands on when no type with fields is left, for the message
    for index, segment in enumerate(path.segments):
        if segment.name[:1].isupper():  # a union member by its class name: the path goes on from it alone
            chosen = list(dict.fromkeys(key for key in current if graph.class_name(key) == segment.name))
            if not chosen or segment.is_list:
                where = ", ".join(graph.name(key) for key in current) or dead_end
                raise UnresolvedField(f"{path.text}: no member {segment.name!r} in {where}")
            current = chosen
            yield _Step([], current, [])
            continue
        crossed: list[Pair[K]] = []
        members: list[K] = []
        items: list[K] = []
        is_list = False
        for key in current:
            fields = graph.fields(key)
            if segment.name not in fields:
                continue
            node = fields[segment.name]
            crossed.append((key, segment.name))
            members += graph.members(node)
            listed = graph.items(node)
            if listed is not None:
                is_list = True
                items += listed
        if not crossed and index == 0 and segment.name in CALL_FIELDS.get(path.root, ()):
            crossed = [(current[0], segment.name)]
        if not crossed:
            where = ", ".join(graph.name(key) for key in current) or dead_end
            raise UnresolvedField(f"{path.text}: no field {segment.name!r} in {where}")
        if segment.is_list and not is_list:
            raise UnresolvedField(f"{path.text}: {segment.name!r} is not a list")
        current = items if segment.is_list else members
        if is_list and not segment.is_list:
            dead_end = f"{segment.name!r}, a list (step into its items with {segment.name}[])"
        else:
            dead_end = f"{segment.name!r}, which has no fields"
        yield _Step(crossed, current, [] if segment.is_list else items)


def walk(graph: TypeGraph[K], path: str) -> tuple[list[K], list[Pair[K]]]:
    """The types at the end of ``path`` and every field it crosses; :class:`UnresolvedField` if a
    segment names a field no type there has."""
    parsed = parse(path)
    end: list[K] = [root_of(graph, parsed)]
    crossed: list[Pair[K]] = []
    for step in _steps(graph, parsed):
        crossed += step.crossed
        end = step.reached
    return end, crossed


def subtree(graph: TypeGraph[K], path: str) -> set[Pair[K]]:
    """The field a path ends on, and every field nested under it (under its list's items too when
    the path ends on a list without ``[]``), short of another pinned root (:func:`foreign_roots`)."""
    parsed = parse(path)
    steps = list(_steps(graph, parsed))
    stop = foreign_roots(graph, parsed.root)
    if not steps:
        return set(reachable(graph, [(path, root_of(graph, parsed))], stop))
    last = steps[-1]
    starts = [(path, key) for key in last.reached] + [(f"{path}[]", item) for item in last.items]
    return set(last.crossed) | set(reachable(graph, starts, stop))


def foreign_roots(graph: TypeGraph[K], root: str) -> set[K]:
    """The pinned root types (``ROOTS``) other than ``root``'s: what is nested under a path stops
    there. A stream event holds a whole ``Response``: the event's path names the field that holds
    it, while the Response's own fields are decided at ``Response``."""
    found = set()
    for name in ROOTS:
        try:
            found.add(graph.root(name))
        except (LookupError, ImportError, AttributeError):  # a root this SDK line does not have
            continue
    try:
        found.discard(graph.root(root))
    except (LookupError, ImportError, AttributeError):
        pass
    return found


def root_fields(graph: TypeGraph[K], roots: Sequence[str]) -> dict[Pair[K], str]:
    """Every field of the named root types and of the types nested in them, with the first path
    that reaches it (breadth first, from all the roots at once); the roots' create() call fields
    included."""
    found = reachable(graph, [(root, graph.root(root)) for root in roots])
    for root in roots:
        for name in sorted(CALL_FIELDS.get(root, ())):
            found.setdefault((graph.root(root), name), f"{root}.{name}")
    return found


def children(graph: TypeGraph[K], node: Any) -> Iterator[tuple[str, K]]:
    """The types a field leads to, each with its path suffix: ``[]`` list items, ``{}`` map values."""
    for item in graph.items(node) or ():
        yield "[]", item
    for member in graph.members(node):
        yield "", member
    for value in graph.values(node):
        yield "{}", value


def reachable(graph: TypeGraph[K], starts: Iterable[tuple[str, K]], stop: Collection[K] = ()) -> dict[Pair[K], str]:
    """Every field of the types reachable from (path, type) starting points, with the first path
    that reaches it; the types in ``stop`` are not entered."""
    found: dict[Pair[K], str] = {}
    queue = deque(starts)
    seen: set[K] = set()
    while queue:
        path, key = queue.popleft()
        if key in seen or key in stop:
            continue
        seen.add(key)
        for name, node in graph.fields(key).items():
            found.setdefault((key, name), f"{path}.{name}")
            for suffix, child in children(graph, node):
                queue.append((f"{path}.{name}{suffix}", child))
    return found
