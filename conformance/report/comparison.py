"""``comparison.md``: several runs side by side, features as rows and targets as columns.

A pure function of results.json documents, and of the records of targets that could not be run
(``not-run.json``: unreachable, stopped by preflight, or missing a key), so that a target that never
produced a results.json still has its column, saying why. ``conformance run`` with a file of several
targets and ``conformance docs`` given several results (CI merging the runs of many machines) both
call :func:`render_comparison`, so either way the page is the same.

Per target: the SDK it ran with, the CI gate and certification (each in the reading its gate judged),
the counts of each verdict and a pass rate; then the pass rate per area, then every feature's verdict.
One target run under several SDK lines is one column per line, labelled with the line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema

from conformance import TOOL_NAME, __version__
from conformance.policy import Reading, Selection, certification_of, gate_of, gate_reading
from conformance.report.markdown import SYMBOLS, beyond_compatible, cell, features_by_area, has_strict_reading

NOT_RUN_FILE = "not-run.json"
NOT_RUN_CELL = "not run"
COMPARISON_FILE = "comparison.md"


def not_run_record(name: str, reason: str, *, base_url: str | None, sdk_version: str) -> dict[str, Any]:
    """What is left of a target that could not be run: its name, why, and the SDK the attempt used.
    Written as ``not-run.json`` where its results.json would be; never a results.json, whose contract
    is a run's."""
    return {
        "not_run": reason,
        "target": {"name": name, "base_url": base_url},
        "sdk": {"package": "openai", "version": sdk_version},
        "tool": {"name": TOOL_NAME, "version": __version__},
    }


def is_not_run(document: dict[str, Any]) -> bool:
    return "not_run" in document


def check_not_run(document: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` (as for a results.json) unless ``document`` is a not-run record."""
    target, sdk = document.get("target"), document.get("sdk")
    if not (
        isinstance(document.get("not_run"), str)
        and isinstance(target, Mapping)
        and isinstance(target.get("name"), str)
        and isinstance(sdk, Mapping)
        and isinstance(sdk.get("version"), str)
    ):
        raise jsonschema.ValidationError("a not-run record has not_run (the reason), target.name and sdk.version")


@dataclass(frozen=True)
class Column:
    """One target of the comparison: a run's results, or the reason it has none."""

    label: str
    document: dict[str, Any]

    @property
    def not_run(self) -> str | None:
        return str(self.document["not_run"]) if is_not_run(self.document) else None


def columns(entries: Sequence[dict[str, Any]]) -> list[Column]:
    """The entries' columns, in order, each labelled by its target's name; a name that repeats (one
    target under several SDK lines) adds the SDK line, and one that still repeats a number."""
    names = [_name(entry) for entry in entries]
    repeated = Counter(names)
    labels = [
        f"{name} (openai {entry['sdk']['version']})" if repeated[name] > 1 else name
        for name, entry in zip(names, entries, strict=True)
    ]
    still = Counter(labels)
    numbered: Counter[str] = Counter()
    found = []
    for label, entry in zip(labels, entries, strict=True):
        if still[label] > 1:
            numbered[label] += 1
            label = f"{label} #{numbered[label]}"
        found.append(Column(label, entry))
    return found


def _name(entry: dict[str, Any]) -> str:
    target = entry.get("target") or {}
    return str(target.get("name") or target.get("base_url") or "target")


def render_comparison(entries: Sequence[dict[str, Any]]) -> str:
    """The page: per target its gate, certification and counts; pass rates per area; every feature."""
    shown = columns(entries)
    runs = [column.document for column in shown if column.not_run is None]
    lines = ["# OpenAI compatibility: comparison", ""]
    lines += [
        "| Target | SDK | CI gate | Certified | " + " | ".join(SYMBOLS) + " | Pass rate | Strict: more findings |",
        "|---" * 11 + "|",
    ]
    for column in shown:
        document = column.document
        sdk = document["sdk"]["version"]
        if column.not_run is not None:
            lines.append(
                f"| {cell(column.label, 60)} | {sdk} | **{NOT_RUN_CELL}**: {cell(column.not_run, 200)} | no | "
                + " | ".join("—" for _ in SYMBOLS)
                + " | — | — |"
            )
            continue
        summary = document["summary"]
        stricter = str(len(beyond_compatible(document))) if has_strict_reading(document) else "—"
        lines.append(
            f"| {cell(column.label, 60)} | {sdk} | {_gate_cell(document)} | {_certified_cell(document)} | "
            + " | ".join(str(summary[s]) for s in SYMBOLS)
            + f" | {_rate(document['features'].values())} | {stricter} |"
        )
    lines += [
        "",
        "CI gate: whether the run passes the gate that decides its exit code (its reading named when not the "
        "compatible one). Pass rate: supported features among those decided (skipped and errors left out), in "
        "the compatible reading. Strict: the features OpenAI's published schemas find fault with beyond it.",
    ]
    if len(runs) < len(shown):
        lines += [
            "",
            f"**{NOT_RUN_CELL}**: no feature was run (the target could not be reached, preflight stopped it, or a "
            "key or setting it needs was missing where it ran), so its gate fails.",
        ]
    lines.append("")
    labels = " | ".join(cell(column.label, 40) for column in shown)
    lines += ["## Pass rate per area", "", f"| Area | {labels} |", "|---" * (len(shown) + 1) + "|"]
    for area, title in _areas(runs):
        rates = [
            NOT_RUN_CELL
            if column.not_run is not None
            else _rate(f for f in column.document["features"].values() if f.get("area") == area)
            for column in shown
        ]
        lines.append(f"| {title} | " + " | ".join(rates) + " |")
    lines.append("")
    every = list(dict.fromkeys(feature_id for document in runs for feature_id in document["features"]))
    lines += ["## Every feature", "", f"| Feature | Level | {labels} |", "|---" * (len(shown) + 2) + "|"]
    for feature_id in every:
        level = next(d["features"][feature_id]["level"] for d in runs if feature_id in d["features"])
        cells = [_verdict_cell(column, feature_id) for column in shown]
        lines.append(f"| `{feature_id}` | {level} | " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)


def _gate_cell(document: dict[str, Any]) -> str:
    """``passes``, ``fails``, ``fails (strict)``; a run cut short says so, with the cause it recorded."""
    reading = gate_reading(document)
    verdict = "passes" if gate_of(document).passes else "fails"
    if reading is not Reading.COMPATIBLE:
        verdict += f" ({reading.value})"
    if document.get("interrupted"):
        verdict += " (interrupted)"
    elif stopped := document.get("stopped"):  # the target stalled, the deadline passed, or preflight got no answer
        verdict += f" (stopped: {cell(stopped.get('cause', stopped.get('kind', '')), 160)})"
    return verdict


def _certified_cell(document: dict[str, Any]) -> str:
    certified = "yes" if document.get("certified") else "no"
    if (selection := Selection.of(document)) is not None and selection.partial:  # never certified
        certified = f"no ({selection.describe()})"
    if gate_reading(document) is not Reading.COMPATIBLE:
        certified += f" ({gate_reading(document).value})"
    return certified


def _verdict_cell(column: Column, feature_id: str) -> str:
    if column.not_run is not None:
        return NOT_RUN_CELL
    feature = column.document["features"].get(feature_id)
    return SYMBOLS[feature["status"]] if feature is not None else "—"


def _areas(documents: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every area any run has, in the first run's matrix order, then the others' as they come."""
    found: dict[str, str] = {}
    for document in documents:
        for area, title, _ in features_by_area(document):
            found.setdefault(area, title)
    return list(found.items())


def _rate(features: Iterable[dict[str, Any]]) -> str:
    decided = [f["status"] for f in features if f["status"] not in ("skipped", "error")]
    if not decided:
        return "—"
    supported = sum(1 for s in decided if s == "supported")
    return f"{supported}/{len(decided)} ({100 * supported // len(decided)}%)"


def summary_lines(entries: Sequence[dict[str, Any]]) -> list[str]:
    """One line per target for the console, as the page's summary table says it:
    ``Vendor: gate fails, not certified · 90 supported, 2 unsupported, 1 nonconformant, 1 skipped, 0 error``."""
    lines = []
    for column in columns(entries):
        if column.not_run is not None:
            lines.append(f"{column.label}: {NOT_RUN_CELL}: {column.not_run}")
            continue
        document = column.document
        counts = ", ".join(f"{document['summary'][s]} {s}" for s in SYMBOLS)
        selection = Selection.of(document)
        partial = selection is not None and selection.partial
        state = selection.describe() if selection is not None and partial else certification_of(document).value
        lines.append(f"{column.label}: gate {_gate_cell(document)}, {state} · {counts}")
    return lines
