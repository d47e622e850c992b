"""``badge.svg``: a shields.io-style flat badge with the certification state in the reading the gate
judged (compatible unless the run chose strict). A pure function of results.json."""

from __future__ import annotations

from html import escape
from typing import Any

from conformance.policy import gate_reading, reading_status

LABEL = "openai-compatible"
CERTIFIED_COLOUR = "#2e7d32"
NOT_CERTIFIED_COLOUR = "#c62828"
LABEL_COLOUR = "#555"
CHAR_WIDTH = 7.0  # Verdana 11px averages about 7 px a character; shields.io measures, we estimate
PADDING = 10  # 5 px either side of each text


def badge_value(results: dict[str, Any]) -> str:
    """The right-hand text: the state and its reading, then supported features out of those that were
    not skipped, in that reading: ``certified (compatible) · 85/85``."""
    reading = gate_reading(results)
    statuses = [reading_status(feature, reading).value for feature in results["features"].values()]
    decided = sum(status != "skipped" for status in statuses)
    supported = statuses.count("supported")
    state = "certified" if results.get("certified") else "not certified"
    return f"{state} ({reading.value}) · {supported}/{decided}"


def _width(text: str) -> int:
    return round(len(text) * CHAR_WIDTH) + PADDING


def render_badge(results: dict[str, Any]) -> str:
    """A two-segment flat SVG badge: ``openai-compatible | certified (compatible) · 76/76``, green or red."""
    value = badge_value(results)
    colour = CERTIFIED_COLOUR if results.get("certified") else NOT_CERTIFIED_COLOUR
    left, right = _width(LABEL), _width(value)
    total = left + right
    label_text, value_text = escape(LABEL), escape(value)
    title = escape(f"{LABEL}: {value}")
    # texts are drawn at 10x and scaled down, as shields.io does, for crisper kerning at small sizes
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
            f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>',
            f'<rect width="{total}" height="20" fill="url(#s)"/>',
            "</g>",
            '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
            'text-rendering="geometricPrecision" font-size="110">',
            *_shadowed_text(left / 2, left - PADDING, label_text),
            *_shadowed_text(left + right / 2, right - PADDING, value_text),
            "</g>",
            "</svg>",
            "",
        ]
    )


def _shadowed_text(centre: float, width: int, text: str) -> list[str]:
    x, length = round(centre * 10), width * 10
    return [
        f'<text aria-hidden="true" x="{x}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" '
        f'textLength="{length}">{text}</text>',
        f'<text x="{x}" y="140" transform="scale(.1)" textLength="{length}">{text}</text>',
    ]
