"""Every generated Markdown page renders on GitHub as written: each table is a table, with as many
cells in every row as its header and delimiter have, and no text is taken for an HTML tag (GitHub
drops tags it does not allow: "Bearer <key>" would lose "<key>").

The pages are parsed with markdown-it-py, a CommonMark parser with GitHub's table extension; the
documents are the hand-made ones, a clean run against the mock, a run with quirks and a vendor's
claims and known failures, and a vendor profile's run.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from conformance.catalog import load_catalog
from conformance.document import build_results
from conformance.engine import RunResult
from conformance.expectations import load_expectations
from conformance.report.docs import render_comparison, render_docs_page, render_step_summary
from conformance.report.markdown import cell, literal, render_matrix
from conformance.report.results import validate_results
from tests.conftest import run_against_mock
from tests.sample_results import docs_results, sample_results
from tests.test_vendor_profiles import profile_results

# GitHub Flavored Markdown as far as these pages use it: CommonMark, raw HTML recognised (GitHub then
# strips what it does not allow), tables
GFM = MarkdownIt("commonmark", {"html": True}).enable("table")

# quirks whose reasons carry markup-like text (an HTML 404 page, `<tool_call>` markup), a broken
# stream, a bad finish_reason; claims one of them contradicts, a live and a stale known failure
QUIRKS = ("resp.finish_reason_nonstandard", "stream.done_missing", "path.html_404", "tool.call_left_in_content")
EXPECTATIONS = {
    "claims": {"supported": ["chat.*"], "unsupported": ["chat.n"]},
    "known_failing": [
        {"feature": "chat.stream.done_sentinel", "reason": "fixed in <v2> | soon & `later`"},
        {"feature": "chat.seed", "reason": "was flaky"},
    ],
}


def split_row(line: str) -> list[str]:
    """A table line's cells as GitHub splits them: outer pipes dropped, split on every pipe that no
    backslash escapes (code spans included: GitHub splits cells before it reads them)."""
    text = line.strip()
    text = text[1:] if text.startswith("|") else text
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    cells, current, escaped = [], "", False
    for char in text:
        if char == "|" and not escaped:
            cells.append(current)
            current = ""
        else:
            current += char
        escaped = char == "\\"
    return [*cells, current]


def _inline_tokens(tokens: list[Token]) -> list[Token]:
    return [child for token in tokens for child in (token.children or ())]


def page_problems(text: str) -> list[str]:
    """Everything on the page GitHub would not render as written (empty: nothing)."""
    tokens = GFM.parse(text)
    lines = text.splitlines()
    problems: list[str] = []
    in_tables: set[int] = set()
    in_code: set[int] = set()
    for index, token in enumerate(tokens):
        if token.type in ("fence", "code_block") and token.map:
            in_code.update(range(*token.map))
        if token.type != "table_open" or not token.map:
            continue
        start, end = token.map
        in_tables.update(range(start, end))
        header, delimiter = split_row(lines[start]), split_row(lines[start + 1])
        parsed = 0  # the header cells the parser saw, to keep split_row honest
        for following in tokens[index + 1 :]:
            if following.type == "tr_close":
                break
            parsed += following.type == "th_open"
        if parsed != len(header):
            problems.append(f"line {start + 1}: the parser sees {parsed} header cells, split_row {len(header)}")
        if len(delimiter) != len(header):
            problems.append(f"line {start + 2}: {len(delimiter)} delimiter cells under {len(header)} header cells")
        for number in range(start + 2, end):
            cells = split_row(lines[number])
            if len(cells) != len(header):
                problems.append(f"line {number + 1}: {len(cells)} cells in a table of {len(header)}: {lines[number]}")
    for number, line in enumerate(lines):
        if line.lstrip().startswith("|") and number not in in_tables and number not in in_code:
            problems.append(f"line {number + 1}: not rendered as a table: {line[:120]}")
    for token in [*tokens, *_inline_tokens(tokens)]:
        if token.type in ("html_block", "html_inline"):
            where = f"line {token.map[0] + 1}" if token.map else "inline"
            problems.append(f"{where}: raw HTML, which GitHub drops or interprets: {token.content.strip()[:80]}")
    return problems


# --- the documents -------------------------------------------------------------------------------------


@cache
def quirk_results() -> dict[str, Any]:
    catalog = load_catalog()
    run: RunResult = run_against_mock(QUIRKS)
    expectations = load_expectations(EXPECTATIONS, catalog)
    return build_results(run, catalog, expectations, today=dt.date(2026, 1, 1))


def documents(clean_run: RunResult) -> dict[str, dict[str, Any]]:
    catalog = load_catalog()
    found = {
        "sample": sample_results(),
        "docs": docs_results(),
        "clean": build_results(clean_run, catalog),
        "quirks": quirk_results(),
        "flexai": profile_results("flexai"),
    }
    for document in found.values():
        validate_results(document)
    return found


def pages(clean_run: RunResult) -> dict[str, str]:
    """Every Markdown page the tool writes, for every document: matrix.md, the docs page, the step
    summary, and the comparison pages."""
    every = documents(clean_run)
    rendered: dict[str, str] = {}
    for name, document in every.items():
        rendered[f"{name}/matrix.md"] = render_matrix(document)
        rendered[f"{name}/docs.md"] = render_docs_page(document, report=f"{name}.html")
        rendered[f"{name}/summary.md"] = render_step_summary(document)
    rendered["comparison.md"] = render_comparison([every["clean"], every["quirks"], every["flexai"]])
    rendered["sample-comparison.md"] = render_comparison([every["sample"], every["docs"]])
    return rendered


def test_every_generated_page_renders_as_written(clean_run: RunResult) -> None:
    found = {name: problems for name, text in pages(clean_run).items() if (problems := page_problems(text))}
    assert found == {}


EXAMPLES = Path(__file__).resolve().parents[1] / "reports"


def test_the_example_pages_render_as_written() -> None:
    # what people read on GitHub: every generated page kept under reports/ (TRIAGE.md is hand-written)
    examples = [p for p in sorted(EXAMPLES.rglob("*.md")) if p.name != "TRIAGE.md"]
    assert len(examples) >= 10
    found = {str(p.relative_to(EXAMPLES)): problems for p in examples if (problems := page_problems(p.read_text()))}
    assert found == {}


def test_the_pages_cover_what_they_must(clean_run: RunResult) -> None:
    # the quirk run has what the check is for: claims contradicted, known failures, markup in reasons
    every = pages(clean_run)
    quirks = every["quirks/docs.md"]
    assert "## Where the vendor's claims and this run disagree" in quirks and "## Known failures" in quirks
    assert "&lt;v2>" in quirks and "&lt;tool_call>" in every["quirks/matrix.md"]


def test_bearer_key_keeps_its_placeholder(clean_run: RunResult) -> None:
    html = GFM.render(pages(clean_run)["clean/docs.md"])
    assert "Authorization: Bearer &lt;key&gt;" in html
    assert "<key>" not in html


# --- the checker itself ---------------------------------------------------------------------------------


def test_the_checker_finds_what_github_would_not_render() -> None:
    assert page_problems("| a | b |\n|---|---|\n| 1 | 2 |\n") == []
    mismatch = page_problems("| a | b | c |\n|---|---|\n| 1 | 2 | 3 |\n")
    assert mismatch and all("not rendered as a table" in p for p in mismatch)
    assert page_problems("| a | b |\n|---|---|\n| 1 | 2 | 3 |\n") == ["line 3: 3 cells in a table of 2: | 1 | 2 | 3 |"]
    assert page_problems("| a | b |\n|---|---|\n| `x\\|y` | 2 |\n") == []  # an escaped pipe in a code span
    assert "raw HTML" in page_problems("Bearer <key>\n")[0]
    assert page_problems("```\n| not | a table |\n<b>\n```\n") == []


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("Bearer <key>", "Bearer &lt;key&gt;"),
        ("a & b", "a &amp; b"),
        ("`<kept>` and <b>", "<code>&lt;kept&gt;</code> and &lt;b&gt;"),
        ("a \\<b> c", "a \\&lt;b&gt; c"),
        ("one ` backtick <b>", "one ` backtick &lt;b&gt;"),
        ("``a ` <b>`` <c>", "<code>a ` &lt;b&gt;</code> &lt;c&gt;"),
        ("pipe | and `co|de`", "pipe | and <code>co|de</code>"),
    ],
)
def test_cells_render_their_text_verbatim(text: str, rendered: str) -> None:
    table = GFM.render(f"| h |\n|---|\n| {cell(text)} |\n")
    assert f"<td>{rendered}</td>" in table
    assert GFM.render(literal(text)).strip() == f"<p>{rendered}</p>"  # outside a table too
