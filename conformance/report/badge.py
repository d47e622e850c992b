"""``badge.svg``: a shields.io-style flat badge with the certification state in the reading the gate
judged (compatible unless the run chose strict), and the same badge as a shields.io endpoint JSON
(``badge.json``, for ``https://img.shields.io/endpoint?url=...``). Pure functions of results.json.

The SVG is laid out as shields.io's badge-maker lays out its "flat" style (``lib/badge-renderers.js``):
each text measured in Verdana 11px, rounded down and then up to an odd number of pixels, 5 px of
padding either side, the texts drawn at 10x and scaled down. The widths are those of badge-maker's
measuring table (below), so the letters are neither stretched nor squeezed by ``textLength``.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from conformance.policy import Certification, certification_of, gate_reading, reading_status

LABEL = "openai-compatible"
CERTIFIED_COLOUR = "#2e7d32"
NOT_CERTIFIED_COLOUR = "#c62828"
PARTIAL_COLOUR = "#9f9f9f"  # a partial run (some features) that found nothing: neither green nor red
LABEL_COLOUR = "#555"
HORIZONTAL_PADDING = 5  # px either side of each text, as badge-maker's
PADDING = 2 * HORIZONTAL_PADDING

# Advance widths in px of Verdana at 11px, the font shields.io measures badge text in: printable ASCII
# (U+0020..U+007E) plus the two non-ASCII marks our texts use. They are the values
# of anafanafo 2.0.0's data/verdana-11px-normal.json (https://github.com/metabolize/anafanafo, MIT
# License, measured from Verdana by its char-width-table-builder), the table shields.io's badge-maker
# measures with (anafanafo(text, {font: "11px Verdana"})).
_WIDTHS = (
    (" !\"#$%&'()*+,-./", (3.87, 4.33, 5.05, 9, 6.99, 11.84, 7.99, 2.95, 5, 5, 6.99, 9, 4, 5, 4, 5)),
    ("0123456789", (6.99,) * 10),
    (":;<=>?@", (5, 5, 9, 9, 9, 6, 11)),
    ("ABCDEFGHIJKLM", (7.52, 7.54, 7.68, 8.48, 6.96, 6.32, 8.53, 8.27, 4.63, 5, 7.62, 6.12, 9.27)),
    ("NOPQRSTUVWXYZ", (8.23, 8.66, 6.63, 8.66, 7.65, 7.52, 6.78, 8.05, 7.52, 10.88, 7.54, 6.77, 7.54)),
    ("[\\]^_`", (5, 5, 5, 9, 6.99, 6.99)),
    ("abcdefghijklm", (6.61, 6.85, 5.73, 6.85, 6.55, 3.87, 6.85, 6.96, 3.02, 3.79, 6.51, 3.02, 10.7)),
    ("nopqrstuvwxyz", (6.96, 6.68, 6.85, 6.85, 4.69, 5.73, 4.33, 6.96, 6.51, 9, 6.51, 6.51, 5.78)),
    ("{|}~", (6.98, 5, 6.98, 9)),
    ("\u00b7\u2026", (4, 9)),  # · (the value's separator) and …
)
CHAR_WIDTHS: dict[str, float] = {
    char: width for chars, widths in _WIDTHS for char, width in zip(chars, widths, strict=True)
}
# badge-maker's fallback for a character its table lacks: the width of "m" (char-width-table-consumer's
# emWidth); control characters are zero-width there too
FALLBACK_WIDTH = CHAR_WIDTHS["m"]


def text_width(text: str) -> float:
    """The width of ``text`` in Verdana 11px, as badge-maker measures it."""
    return sum(0.0 if ord(c) < 32 or ord(c) == 127 else CHAR_WIDTHS.get(c, FALLBACK_WIDTH) for c in text)


def preferred_width(text: str) -> int:
    """badge-maker's ``preferredWidthOf``: the measured width truncated, then rounded up to an odd
    number ("to increase chances of pixel grid alignment")."""
    width = int(text_width(text))
    return width + 1 if width % 2 == 0 else width


def badge_value(results: dict[str, Any]) -> str:
    """The right-hand text: the state and its reading, then supported features out of those that were
    not skipped, in that reading: ``certified (compatible) · 85/85``."""
    reading = gate_reading(results)
    statuses = [reading_status(feature, reading).value for feature in results["features"].values()]
    decided = sum(status != "skipped" for status in statuses)
    supported = statuses.count("supported")
    state = certification_of(results).value  # the policy's: "partial" for a run of some features
    return f"{state} ({reading.value}) · {supported}/{decided}"


def badge_colour(results: dict[str, Any]) -> str:
    state = certification_of(results)
    if state is Certification.PARTIAL:  # grey when the features it ran pass the gate, red when they do not
        return PARTIAL_COLOUR if (results.get("gate") or {}).get("passes", True) else NOT_CERTIFIED_COLOUR
    return CERTIFIED_COLOUR if state is Certification.CERTIFIED else NOT_CERTIFIED_COLOUR


def render_badge(results: dict[str, Any]) -> str:
    """A two-segment flat SVG badge: ``openai-compatible | certified (compatible) · 76/76``, green or red."""
    value = badge_value(results)
    label_width, value_width = preferred_width(LABEL), preferred_width(value)
    left, right = label_width + PADDING, value_width + PADDING
    total = left + right
    label_text, value_text = escape(LABEL), escape(value)
    title = escape(f"{LABEL}: {value}")
    # badge-maker's margins: the label starts 1 px in, the message 1 px before the boundary
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{title}">',
            f"<title>{title}</title>",
            '<linearGradient id="s" x2="0" y2="100%">'
            '<stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/>'
            "</linearGradient>",
            f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>',
            '<g clip-path="url(#r)">',
            f'<rect width="{left}" height="20" fill="{LABEL_COLOUR}"/>',
            f'<rect x="{left}" width="{right}" height="20" fill="{badge_colour(results)}"/>',
            f'<rect width="{total}" height="20" fill="url(#s)"/>',
            "</g>",
            '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
            'text-rendering="geometricPrecision" font-size="110">',
            *_shadowed_text(1, label_width, label_text),
            *_shadowed_text(left - 1, value_width, value_text),
            "</g>",
            "</svg>",
            "",
        ]
    )


def _shadowed_text(margin: int, width: int, text: str) -> list[str]:
    """A text and its shadow, drawn at 10x and scaled down as badge-maker does (crisper at small sizes)."""
    x, length = round(10 * (margin + width / 2 + HORIZONTAL_PADDING)), 10 * width
    return [
        f'<text aria-hidden="true" x="{x}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" '
        f'textLength="{length}">{text}</text>',
        f'<text x="{x}" y="140" transform="scale(.1)" textLength="{length}">{text}</text>',
    ]


def badge_endpoint(results: dict[str, Any]) -> dict[str, Any]:
    """The badge as shields.io's endpoint badge schema (https://shields.io/badges/endpoint-badge):
    ``https://img.shields.io/endpoint?url=<where badge.json is served>`` draws the same badge."""
    return {
        "schemaVersion": 1,
        "label": LABEL,
        "message": badge_value(results),
        "color": badge_colour(results).removeprefix("#"),
        "labelColor": LABEL_COLOUR.removeprefix("#"),
    }


def render_badge_json(results: dict[str, Any]) -> str:
    return json.dumps(badge_endpoint(results), indent=2, ensure_ascii=False) + "\n"
