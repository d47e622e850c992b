"""What a run prints at its end (a pure function of results.json; the gate and certification it
prints are the policy's, as recorded).

Three parts, in this order:

- the table: one line per feature, its verdict and the first line of its reason;
- the failures: every reason the gate fails (each feature whose judgement fails it, with its full
  reason, every problem found and the fix, then the gate's own reasons: a contradicted claim, a stale
  known-failing entry and an interrupted run say so in the judgement), and the known failures that
  pass the gate but block certification;
- the summary (:func:`render_summary_lines`): the counts, any security finding, how many more findings
  the strict reading makes, the gate, the certified line and the files written, which is all ``--quiet``
  prints; the full summary adds the run's size, rate limits, the strict findings and the root causes.

Colour (``colour=True``) marks verdicts and the gate's lines with ANSI codes; the CLI asks for it
only on a terminal (:func:`wants_colour`). No ANSI code ever reaches a file: the files are written by
the other writers, and without ``colour`` this one writes none either.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping
from typing import Any, TextIO

from conformance.policy import (
    Certification,
    Disposition,
    Reading,
    Selection,
    certification_of,
    gate_of,
    gate_reading,
    judgement_of,
)
from conformance.report.markdown import beyond_compatible, has_strict_reading, strict_problems

MARK = {"supported": "ok", "unsupported": "UNSUPPORTED", "nonconformant": "FAIL", "skipped": "skip", "error": "ERROR"}

# SGR codes (ECMA-48): what each verdict and state is drawn in on a terminal
GREEN, RED, YELLOW, MAGENTA, DIM, BOLD = "32", "31", "33", "35", "2", "1"
MARK_COLOUR = {"supported": GREEN, "unsupported": YELLOW, "nonconformant": RED + ";" + BOLD, "skipped": DIM}
MARK_COLOUR["error"] = MAGENTA


def wants_colour(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether to colour what goes to ``stream``: ``NO_COLOR`` set to anything non-empty says never
    (https://no-color.org), ``FORCE_COLOR`` set (and not ``0``) says yes even without a terminal;
    otherwise only a terminal that is not ``TERM=dumb`` gets colour."""
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    if environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _paint(text: str, code: str | None, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code and text else text


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _wrapped(text: str, width: int, indent: str, then: str | None = None) -> list[str]:
    """Every line of ``text``, whole, wrapped at ``width`` (long words are not broken: URLs stay whole);
    continuation lines indented by ``then`` (two more than ``indent`` unless given)."""
    lines = []
    for line in str(text).splitlines() or [""]:
        lines += textwrap.wrap(
            line,
            max(width, 40),
            initial_indent=indent,
            subsequent_indent=indent + "  " if then is None else then,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [indent]
    return lines


def render_table(results: dict[str, Any], *, width: int = 120, colour: bool = False) -> list[str]:
    features = results["features"]
    id_width = max((len(f) for f in features), default=10)
    verdict_width = max(len(v) for v in MARK.values())
    reason_width = max(width - id_width - verdict_width - 4, 30)
    lines = [
        f"{'feature'.ljust(id_width)}  {'verdict'.ljust(verdict_width)}  reason",
        f"{'-' * id_width}  {'-' * verdict_width}  {'-' * min(reason_width, 40)}",
    ]
    for feature_id, feature in features.items():
        reason = feature["reason"].splitlines()[0] if feature["reason"] else ""
        mark = _paint(MARK[feature["status"]].ljust(verdict_width), MARK_COLOUR.get(feature["status"]), colour)
        lines.append(f"{feature_id.ljust(id_width)}  {mark}  {_clip(reason, reason_width)}")
    return lines


def _feature_detail(feature: dict[str, Any], reading: Reading, width: int) -> list[str]:
    """A failing feature's full reason: every problem found (the reason names only the first), the
    strict reading's findings when they are why it fails, and the fix."""
    problems = [f"{p['oracle']}: {p['message']}" for p in feature.get("problems") or ()]
    lines = []
    if len(problems) > 1:
        for problem in problems:
            lines += _wrapped(f"- {problem}", width, "    ")
    else:
        lines += _wrapped(feature["reason"], width, "    ")
    if reading is Reading.STRICT:
        lines += [
            line for problem in strict_problems(feature) for line in _wrapped(f"- strict: {problem}", width, "    ")
        ]
    for guide in feature.get("troubleshooting") or ():
        lines += _wrapped(f"fix: {guide['fix']}", width, "    ")
    return lines


def render_failures(results: dict[str, Any], *, width: int = 120, colour: bool = False) -> list[str]:
    """Why the gate fails, in full: the gate's reasons, each failing feature's with its whole reason;
    then the known failures, which pass the gate but are never certified. Empty when there are neither."""
    reading = gate_reading(results)
    features = results["features"]
    gate = gate_of(results)
    lines: list[str] = []
    if gate.failures:
        lines += [
            "",
            _paint(f"Failures ({len(gate.failures)}): what fails the CI gate ({reading.value} reading)", BOLD, colour),
        ]
        for failure in gate.failures:
            subject, _, why = failure.partition(": ")
            feature = features.get(subject)
            if feature is None:  # a reason of the run's, not of one feature
                lines += _wrapped(failure, width, "  ")
                continue
            plain = f"  {subject}  {MARK[feature['status']]}  "
            first, *rest = _wrapped(why, width, plain, " " * 6)  # wrapped plain, then painted: colour takes no width
            mark = _paint(MARK[feature["status"]], MARK_COLOUR.get(feature["status"]), colour)
            lines += [f"  {_paint(subject, BOLD, colour)}  {mark}  {first.removeprefix(plain)}", *rest]
            lines += _feature_detail(feature, reading, width)
    known = [
        (feature_id, judgement_of(feature, reading).why)
        for feature_id, feature in features.items()
        if judgement_of(feature, reading).disposition is Disposition.EXPECTED_FAIL
    ]
    if known:
        lines += [
            "",
            f"Known failures ({len(known)}): excused by the target file, so the gate passes them; never certified",
        ]
        lines += [line for feature_id, why in known for line in _wrapped(f"{feature_id}: {why}", width, "  ")]
    return lines


def render_summary_lines(
    results: dict[str, Any],
    *,
    width: int = 120,
    files: list[str] | None = None,
    colour: bool = False,
    full: bool = True,
) -> list[str]:
    """The summary, which is all ``--quiet`` prints: the counts, any security finding (a risk is never
    left out), how many more findings the strict reading makes, the gate, the certified line and the
    files written. ``full`` adds the run's size, rate limits, the strict findings themselves and the
    root causes."""
    summary = results["summary"]
    reading = gate_reading(results)
    lines = ["  ".join(f"{name}: {summary[name]}" for name in MARK)]
    if full:
        lines.append(
            f"{results['requests']} requests, {results['completion_tokens_requested']} completion tokens requested, "
            f"{results['duration_s']} s · openai {results['sdk']['version']} · target {results['target']['base_url']}"
        )
    lines += _context(results, width, reading, full)
    gate = gate_of(results)
    if gate.passes:
        lines.append(_paint(f"CI gate ({reading.value} reading): passes", GREEN, colour))
    else:
        where = " (listed above)" if full else ""
        lines.append(
            _paint(
                f"CI gate ({reading.value} reading): fails, {len(gate.failures)} reason(s){where}",
                RED + ";" + BOLD,
                colour,
            )
        )
    certified = "CERTIFIED" if gate.certified else "NOT CERTIFIED"
    paint = (GREEN if gate.certified else RED) + ";" + BOLD
    selection = Selection.of(results)
    if certification_of(results) is Certification.PARTIAL and selection is not None:  # never certified
        chosen = f" (--select {' '.join(selection.patterns)})" if selection.patterns else ""
        certified, paint = f"PARTIAL: {selection.run} of {selection.catalog} features{chosen}, not certified", YELLOW
    lines.append(_paint(certified, paint, colour) + f" ({reading.value} reading)")
    if files:
        lines.append("wrote " + ", ".join(files))
    return lines


def _context(results: dict[str, Any], width: int, reading: Reading, full: bool) -> list[str]:
    lines = []
    backoffs = (results.get("politeness") or {}).get("backoffs") or []
    if backoffs and full:
        lines.append(f"rate limited: backed off {len(backoffs)} time(s), honouring Retry-After")
    for item in results.get("security_findings") or []:
        lines.append(f"security: {item['finding']} ({item['feature']})")
    if has_strict_reading(results):
        stricter = beyond_compatible(results)
        lines.append(
            f"strict reading (OpenAI's published schemas): {len(stricter)} more finding(s)"
            + (" (the gate's reading)" if reading is Reading.STRICT else ", not gating")
        )
        for feature_id in stricter[:5] if full else ():
            first = (strict_problems(results["features"][feature_id]) or [""])[0]
            lines.append(f"  {feature_id}: {_clip(first, width - len(feature_id) - 4)}")
        if len(stricter) > 5 and full:
            lines.append(f"  ... and {len(stricter) - 5} more (matrix.md, report.html)")
    causes = results.get("causes") or []
    if causes and full:
        explained = sum(len(cause["features"]) for cause in causes)
        lines.append(f"root causes: {len(causes)} server behaviour(s) explain {explained} failing feature(s)")
        for cause in causes:
            lines.append(f"  {cause['id']} ({len(cause['features'])}): {_clip(cause['summary'], width - 16)}")
    return lines


def render_summary(
    results: dict[str, Any],
    *,
    width: int = 120,
    files: list[str] | None = None,
    colour: bool = False,
    quiet: bool = False,
) -> str:
    """The end of a run: the table, the failures in full, the summary; with ``quiet``, the summary only."""
    if quiet:
        return "\n".join(render_summary_lines(results, width=width, files=files, colour=colour, full=False))
    lines = render_table(results, width=width, colour=colour)
    lines += render_failures(results, width=width, colour=colour)
    lines += ["", *render_summary_lines(results, width=width, files=files, colour=colour)]
    return "\n".join(lines)
