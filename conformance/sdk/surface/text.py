"""Surfaces and their diffs as text people review: a Markdown diff for a PR comment, and a field
listing of the catalog's part of the SDK (one line per field, so a snapshot diff reads field by field)."""

from __future__ import annotations

from collections import Counter

from conformance.sdk.surface.diff import SCOPE_ENDPOINTS, Change, SurfaceDiff
from conformance.sdk.surface.model import Surface, short_name

LONG_ENUM = 8  # longer enums are listed one value per line


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _table(changes: list[Change], *, features: bool, why: bool = False) -> list[str]:
    header = "| change | where | detail |" + (" features |" if features else "") + (" why |" if why else "")
    lines = [header, "|" + "---|" * header.count(" |")]
    for change in changes:
        row = f"| {change.kind} | `{_cell(change.where)}` | {_cell(change.detail) or ' '} |"
        if features:
            row += " " + ", ".join(f"`{f}`" for f in change.features) + " |"
        if why:
            row += f" {_cell(change.excused or '')} |"
        lines.append(row)
    return lines


def render_diff_markdown(diff: SurfaceDiff, *, everything: bool = False) -> str:
    scoped = diff.in_scope()
    touching = [c for c in scoped if c.features]
    excused = [c for c in scoped if not c.features and c.excused is not None]
    uncovered = [c for c in scoped if c.uncovered]
    endpoints = ", ".join(prefix.rstrip(".") for prefix in SCOPE_ENDPOINTS)
    lines = [
        f"# openai SDK surface: {diff.old} -> {diff.new}",
        "",
        f"In the catalog's scope (the types under its root types, the {endpoints} endpoints, the exceptions): "
        f"{len(scoped)} changes; {len(touching)} touch catalog features, "
        f"{len(excused)} are excused (`not_covered`, or endpoints probed for presence only), "
        f"{len(uncovered)} are covered by no feature.",
        "",
    ]
    if touching:
        lines += ["## Changes that touch catalog features", "", *_table(touching, features=True), ""]
    if uncovered:
        lines += [
            "## Changes no feature covers",
            "",
            "Decide each: add the field to a feature's `sdk_fields` (and a check that exercises it), or "
            "excuse it under `not_covered` in `matrix.yaml` with a reason.",
            "",
            *_table(uncovered, features=False),
            "",
        ]
    if excused:
        lines += ["## Changes the catalog excuses", "", *_table(excused, features=False, why=True), ""]
    outside = diff.outside()
    counts = Counter(c.kind for c in outside)
    lines += [
        "## Outside the catalog's scope",
        "",
        (", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "nothing")
        + (" (listed below)." if everything and outside else " (`--all` lists them)." if outside else "."),
        "",
    ]
    if everything and outside:
        lines += [*_table(outside, features=False), ""]
    return "\n".join(lines)


def render_surface_listing(surface: Surface) -> str:
    """The catalog's part of a surface, one line per field: what the pin-gate snapshot stores."""
    lines = [f"openai {surface.version}", "", "== endpoints"]
    for name, entry in surface.endpoints.items():
        if name.startswith(SCOPE_ENDPOINTS):
            lines.append(f"{name}: {'helper' if entry.get('helper') else entry['verb'] + ' ' + entry['path']}")
            lines += [f"  {param}" for param in entry.get("params", ())]  # one per line: diffs name them
    lines += ["", "== exceptions"]
    by_status = surface.exceptions["by_status"]
    lines.append("by status: " + ", ".join(f"{status} {name}" for status, name in by_status.items()))
    for name, entry in surface.exceptions["classes"].items():
        lines.append(f"{name}({', '.join(entry['bases'])}): {', '.join(entry['attributes'])}")
    for key in sorted(surface.scope()):
        lines += ["", f"== {short_name(key)}"]
        for name, view in sorted(surface.views(key).items()):
            values = sorted(view.enum)
            inline = f" {{{', '.join(values)}}}" if 0 < len(values) <= LONG_ENUM else ""
            lines.append(f"{name}: {view.label}{' (required)' if view.required else ''}{inline}")
            if len(values) > LONG_ENUM:  # a model-name list: one per line, so a diff names the new ones
                lines += [f"  = {value}" for value in values]
    return "\n".join(lines) + "\n"
