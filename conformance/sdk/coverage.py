"""Which fields of the pinned SDK's request and response types the catalog exercises, and why the others are not.

Every field of the chat request params, of ``ChatCompletion`` and of ``ChatCompletionChunk``, of the
Responses request params, of ``Response`` and of every event of its stream (``ResponseStreamEvent``),
of the files, batches, images, audio and moderations params and objects, and of every type nested in
them, must be either crossed by some feature's ``sdk_fields`` path or
listed under ``not_covered`` in ``matrix.yaml`` with a reason. A pin bump that adds a field leaves
it in neither list, and ``conformance coverage`` (run by a test) fails until someone decides.

The create params are the ``...CreateParamsBase`` TypedDict that the SDK's streaming and
non-streaming variants both extend: the variants differ only in ``stream``, a field of the
``create()`` call (``CALL_FIELDS``). ``ResponseStreamEvent`` is a union, not a class: its members,
each a class the SDK exports, are the roots, so a path names the event (``ResponseTextDeltaEvent.delta``).
A root the installed SDK line does not have is skipped and named in the report.

Paths resolve on the installed SDK's classes (:mod:`conformance.sdk.live`); a ``not_covered`` path
the installed line lacks is no error when another shipped surface has it (:mod:`conformance.sdk.surface`):
a newer line's field, or one an older supported line still has.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from conformance.catalog import Catalog
from conformance.sdk.live import LIVE, type_label
from conformance.sdk.paths import Pair, UnresolvedField, root_fields, subtree, walk
from conformance.sdk.surface.model import other_line_with
from conformance.sdk.types import locate, sdk_class

COVERAGE_ROOTS = (
    "ChatCompletionCreateParams",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ResponseCreateParams",
    "Response",
    "ResponseStreamEvent",
    "FileCreateParams",
    "FileListParams",
    "FileObject",
    "FileDeleted",
    "BatchCreateParams",
    "BatchListParams",
    "Batch",
    "ImageGenerateParams",
    "ImagesResponse",
    "TranscriptionCreateParams",
    "Transcription",
    "TranscriptionVerbose",
    "TranslationCreateParams",
    "Translation",
    "TranslationVerbose",
    "SpeechCreateParams",
    "ModerationCreateParams",
    "ModerationCreateResponse",
)
# Roots that are unions, not classes: where the SDK defines the alias. No path starts at a union (a
# stored surface holds no entry for one), so its members are the roots.
UNION_ROOTS: dict[str, tuple[str, str]] = {
    "ResponseStreamEvent": ("openai.types.responses.response_stream_event", "ResponseStreamEvent"),
}


@dataclass
class Roots:
    """The coverage roots as the installed SDK line has them."""

    names: dict[str, list[str]] = field(default_factory=dict)  # root -> the class names walked from it
    skipped: dict[str, str] = field(default_factory=dict)  # root -> why this line has none
    problems: list[str] = field(default_factory=list)


def resolve_roots(roots: tuple[str, ...] | None = None) -> Roots:
    """Each root's classes on the installed SDK: itself, or a union's members. A root this line does
    not define is skipped, not an error: the SDK-line sessions run the report under older lines."""
    found = Roots()
    for root in COVERAGE_ROOTS if roots is None else roots:
        try:
            if root not in UNION_ROOTS:
                sdk_class(root)
                found.names[root] = [root]
                continue
            module, alias = UNION_ROOTS[root]
            union = getattr(importlib.import_module(module), alias)
        except (LookupError, ImportError, AttributeError):
            found.skipped[root] = "not defined by this SDK line"
            continue
        found.names[root] = []
        for member in LIVE.members(union):
            if locate(member.__name__) == (member.__module__, member.__name__):
                found.names[root].append(member.__name__)
            else:  # no catalog path could name it, so no entry could account for its fields
                found.problems.append(f"{root}: member {member.__module__}.{member.__name__} is not exported by name")
    return found


@dataclass
class TypeCoverage:
    label: str
    covered: dict[str, list[str]] = field(default_factory=dict)  # field -> feature ids
    not_covered: dict[str, str] = field(default_factory=dict)  # field -> reason
    missing: dict[str, str] = field(default_factory=dict)  # field -> a path that reaches it

    @property
    def total(self) -> int:
        return len(self.covered) + len(self.not_covered) + len(self.missing)


@dataclass
class CoverageReport:
    sdk_version: str
    types: list[TypeCoverage]
    problems: list[str]  # not_covered entries that do not resolve
    roots: Roots = field(default_factory=Roots)

    @property
    def missing(self) -> int:
        return sum(len(t.missing) for t in self.types)

    def totals(self) -> dict[str, int]:
        return {
            "fields": sum(t.total for t in self.types),
            "covered": sum(len(t.covered) for t in self.types),
            "not_covered": sum(len(t.not_covered) for t in self.types),
            "missing": self.missing,
        }

    @property
    def ok(self) -> bool:
        return not self.missing and not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "sdk_version": self.sdk_version,
            "roots": list(self.roots.names),
            "union_members": {root: names for root, names in self.roots.names.items() if names != [root]},
            "skipped_roots": self.roots.skipped,
            "totals": self.totals(),
            "problems": self.problems,
            "types": [
                {"type": t.label, "covered": t.covered, "not_covered": t.not_covered, "missing": t.missing}
                for t in self.types
            ],
        }


def compute_coverage(catalog: Catalog, sdk_version: str, roots: Roots | None = None) -> CoverageReport:
    roots = resolve_roots() if roots is None else roots
    fields: dict[Pair[Any], str] = {}
    for names in roots.names.values():
        for name in names:  # one root at a time: a shared type is named by the first root's path
            for pair, path in root_fields(LIVE, [name]).items():
                fields.setdefault(pair, path)

    covered: dict[Pair[Any], list[str]] = defaultdict(list)
    for feature in catalog:
        for path in feature.sdk_fields:
            try:
                _, crossed = walk(LIVE, path)
            except UnresolvedField:
                continue  # the catalog test reports unresolved paths
            for pair in crossed:
                if feature.id not in covered[pair]:
                    covered[pair].append(feature.id)

    reasons: dict[Pair[Any], str] = {}
    problems: list[str] = list(roots.problems)
    for path, reason in catalog.not_covered.items():
        try:
            for pair in subtree(LIVE, path):
                reasons.setdefault(pair, reason)
        except UnresolvedField as error:
            if not other_line_with(path):  # a field another supported line has (newer, or since dropped) is fine
                problems.append(f"not_covered entry does not resolve: {error}")

    names = [getattr(tp, "__name__", str(tp)) for tp, _ in fields]
    ambiguous = {name for name in names if len({tp for tp, _ in fields if getattr(tp, "__name__", "") == name}) > 1}
    by_type: dict[Any, TypeCoverage] = {}
    for (tp, name), path in sorted(fields.items(), key=lambda item: item[1]):
        entry = by_type.setdefault(tp, TypeCoverage(type_label(tp, ambiguous)))
        if (tp, name) in covered:
            entry.covered[name] = covered[(tp, name)]
        elif (tp, name) in reasons:
            entry.not_covered[name] = reasons[(tp, name)]
        else:
            entry.missing[name] = path
    return CoverageReport(sdk_version, list(by_type.values()), problems, roots)


def render_coverage(report: CoverageReport, *, verbose: bool = True) -> str:
    named = [
        root if names == [root] else f"{root} (a union of {len(names)} types)"
        for root, names in report.roots.names.items()
    ]
    lines = [f"openai {report.sdk_version}: coverage of {', '.join(named)} and the types nested in them"]
    lines += [f"skipped: {root}, {why}" for root, why in report.roots.skipped.items()]
    lines.append("")
    for entry in report.types:
        lines.append(
            f"{entry.label} ({entry.total} fields: {len(entry.covered)} covered, "
            f"{len(entry.not_covered)} not covered, {len(entry.missing)} missing)"
        )
        if verbose:
            for name, features in entry.covered.items():
                shown = ", ".join(features[:3]) + (f" (+{len(features) - 3})" if len(features) > 3 else "")
                lines.append(f"  covered      {name:<28} {shown}")
            for name, reason in entry.not_covered.items():
                lines.append(f"  not covered  {name:<28} {reason}")
        for name, path in entry.missing.items():
            lines.append(f"  MISSING      {name:<28} {path}: add it to a feature's sdk_fields or to not_covered")
    totals = report.totals()
    lines += [
        "",
        f"{totals['fields']} fields: {totals['covered']} covered, {totals['not_covered']} not covered with a reason, "
        f"{totals['missing']} in neither list",
    ]
    lines += report.problems
    return "\n".join(lines)
