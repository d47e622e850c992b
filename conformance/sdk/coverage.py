"""Which fields of the pinned SDK's chat types the catalog exercises, and why the others are not.

Every field of the chat request params, of ``ChatCompletion`` and of ``ChatCompletionChunk`` (and
of every type nested in them) must be either crossed by some feature's ``sdk_fields`` path or
listed under ``not_covered`` in ``matrix.yaml`` with a reason. A pin bump that adds a field leaves
it in neither list, and ``conformance coverage`` (run by a test) fails until someone decides.

Paths resolve on the installed SDK's classes (:mod:`conformance.sdk.live`); a ``not_covered`` path
the installed line lacks is excused when a newer shipped surface has it (:mod:`conformance.sdk.surface`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from conformance.catalog import Catalog
from conformance.sdk.live import LIVE, type_label
from conformance.sdk.paths import Pair, UnresolvedField, root_fields, subtree, walk
from conformance.sdk.surface.model import newer_than_installed

COVERAGE_ROOTS = ("ChatCompletionCreateParams", "ChatCompletion", "ChatCompletionChunk")


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
            "roots": list(COVERAGE_ROOTS),
            "totals": self.totals(),
            "problems": self.problems,
            "types": [
                {"type": t.label, "covered": t.covered, "not_covered": t.not_covered, "missing": t.missing}
                for t in self.types
            ],
        }


def compute_coverage(catalog: Catalog, sdk_version: str) -> CoverageReport:
    fields: dict[Pair[Any], str] = {}
    for root in COVERAGE_ROOTS:  # one root at a time: a shared type is named by the first root's path
        for pair, path in root_fields(LIVE, [root]).items():
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
    problems: list[str] = []
    for path, reason in catalog.not_covered.items():
        try:
            for pair in subtree(LIVE, path):
                reasons.setdefault(pair, reason)
        except UnresolvedField as error:
            if not newer_than_installed(path):  # a field of the pinned SDK this older line lacks is fine
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
    return CoverageReport(sdk_version, list(by_type.values()), problems)


def render_coverage(report: CoverageReport, *, verbose: bool = True) -> str:
    lines = [f"openai {report.sdk_version}: coverage of {', '.join(COVERAGE_ROOTS)} and the types nested in them", ""]
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
