"""The reasons the code gives live in the repository, and every reference to them resolves.

Comments, docstrings, quirk sources, catalog entries and the README cite the SDK facts
(``docs/sdk-facts.md#anchor``), the contracts (``docs/contracts.md#...``), the bugs behind the
mock (``docs/quirk-sources.md``) and the vendors' tables (``tests/data/...``), or public URLs. They
never cite a document a reader of the repository cannot open (research notes, a design draft, an
issue tracker of the project's own), and every anchor and path they name exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TEST_DATA = ROOT / "tests" / "data"

# Where code and its prose live (tests/data holds the vendors' own words, kept verbatim).
SCANNED_DIRS = ("conformance", "tests", "scripts", "bench")
SCANNED_FILES = ("README.md", "ARCHITECTURE.md", "matrix.yaml", "noxfile.py")
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".json", ".toml", ".txt", ".ambr", ".html", ".j2"}

# Documents outside the repository, as they used to be cited. The brackets keep this file from
# matching its own patterns. `tests/data/seeds/...` is in the repository; `../shared/peers` and
# `../shared/data` are tooling (the peer servers, the OpenAPI spec), not reasons.
OUTSIDE_CITATION = re.compile(
    r"d[o]ssier"
    r"|(?<!data/)s[e]eds/"
    r"|D[E]SIGN\.md|D[E]SIGN §"
    r"|q[u]irks?-catalog"
    r"|a[n]chors-"
    r"|s[h]ared/research"
    r"|i[s]sue [0-9]"
    # a bare section number of such a document (an RFC's sections are fine)
    r"|(?<!RFC \d{4} )§ ?\d"
)
DOC_REFERENCE = re.compile(r"\bdocs/([\w-]+\.md)(?:#([\w.-]+))?")
TEST_DATA_REFERENCE = re.compile(r"\btests/data/[\w./-]*")
# a link inside docs/: `(#anchor)` or `(other.md#anchor)`
RELATIVE_LINK = re.compile(r"\]\((?:([\w-]+\.md))?#([\w.-]+)\)")
# how prose explains the form (`docs/sdk-facts.md#anchor`, `docs/contracts.md#...`)
PLACEHOLDERS = {"anchor", "..."}


def _text_files(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        if (
            path.is_file()
            and not path.is_symlink()
            and path.suffix in TEXT_SUFFIXES
            and "__pycache__" not in path.parts
        ):
            yield path


def scanned_files() -> list[Path]:
    files = [ROOT / name for name in SCANNED_FILES]
    for directory in SCANNED_DIRS:
        files += [p for p in _text_files(ROOT / directory) if TEST_DATA not in p.parents]
    return files


def citing_files() -> list[Path]:
    """Everything that may cite a doc anchor or a test-data path: the scanned files, the docs,
    the test data's README and the hand-written peer triage."""
    return [
        *scanned_files(),
        *sorted(DOCS.glob("*.md")),
        TEST_DATA / "README.md",
        *sorted((ROOT / "reports" / "peers").glob("*/TRIAGE.md")),
    ]


def github_slug(heading: str) -> str:
    """The anchor GitHub derives from a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def anchors(doc: str) -> frozenset[str]:
    """The anchors of docs/<doc>: explicit `<a id="...">` and the headings' slugs."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    in_code = False
    for line in (DOCS / doc).read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        found.update(re.findall(r"""<a\s+(?:id|name)=["']([^"']+)["']""", line))
        heading = re.match(r"#{1,6}\s+(.*)", line)
        if heading:
            slug = github_slug(heading.group(1))
            found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return frozenset(found)


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_scan_sees_the_code() -> None:
    names = {_rel(p) for p in scanned_files()}
    assert {"conformance/mock/quirks/chat.py", "matrix.yaml", "README.md", "tests/test_reasons.py"} <= names
    assert not any(name.startswith("tests/data/") for name in names)
    assert {"sdk-facts.md", "contracts.md", "quirk-sources.md"} <= {p.name for p in DOCS.glob("*.md")}


def test_the_patterns() -> None:
    section = "\N{SECTION SIGN}"
    for cited in (
        f"sdk-doss{'ier'} {section}2",
        f"see ../shared/{'research'}/notes.md",
        f"issue {6}",
        f"DESIGN{'.md'} {section}3",
        f"invisible to pydantic ({section}11)",
    ):
        assert OUTSIDE_CITATION.search(cited), cited
    assert not OUTSIDE_CITATION.search(f"RFC 9110 {section}15.4")
    seed = "/".join(("tests", "data", "seeds", "001_1badc60d5130d121.txt"))
    for fine in (seed, "../shared/peers/prism.sh", "../shared/data/spec"):
        assert not OUTSIDE_CITATION.search(fine), fine
    assert github_slug("1. What a run is, and the verdicts") == "1-what-a-run-is-and-the-verdicts"
    assert github_slug("The parse helper `chat.completions.parse()`") == "the-parse-helper-chatcompletionsparse"
    assert {"redirects", "retry-after", "4-redirects"} <= anchors("sdk-facts.md")
    assert {"verdicts", "certification", "cli", "results-json"} <= anchors("contracts.md")


def test_nothing_cites_a_document_outside_the_repository() -> None:
    hits = [
        f"{_rel(path)}:{number}: {line.strip()}"
        for path in scanned_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE_CITATION.search(line)
    ]
    assert hits == []


def test_every_cited_doc_anchor_exists() -> None:
    broken = []
    for path in citing_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            references = [(doc, anchor) for doc, anchor in DOC_REFERENCE.findall(line)]
            if path.parent == DOCS:
                references += [(doc or path.name, anchor) for doc, anchor in RELATIVE_LINK.findall(line)]
            for doc, anchor in references:
                if not (DOCS / doc).is_file():
                    broken.append(f"{_rel(path)}:{number}: docs/{doc} does not exist")
                elif anchor in PLACEHOLDERS:
                    continue
                elif anchor and anchor not in anchors(doc) and anchor.rstrip(".") not in anchors(doc):
                    broken.append(f"{_rel(path)}:{number}: docs/{doc} has no anchor #{anchor}")
    assert broken == []


def test_every_cited_test_data_path_exists() -> None:
    broken = [
        f"{_rel(path)}:{number}: {reference}"
        for path in citing_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for reference in TEST_DATA_REFERENCE.findall(line)
        if not (ROOT / reference.rstrip(".,")).exists()
    ]
    assert broken == []


def test_the_code_cites_each_doc() -> None:
    cited = {doc for path in scanned_files() for doc, _ in DOC_REFERENCE.findall(path.read_text(encoding="utf-8"))}
    assert {"sdk-facts.md", "contracts.md", "quirk-sources.md"} <= cited


def test_every_bug_id_the_catalog_names_has_its_reports() -> None:
    catalog = yaml.safe_load((ROOT / "matrix.yaml").read_text(encoding="utf-8"))
    ids = {bug for feature in catalog["features"] for bug in feature.get("seen_in", ())}
    assert ids
    assert sorted(ids - anchors("quirk-sources.md")) == []
