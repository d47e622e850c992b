"""The troubleshooting guide: generated into the README, traceable to the vendors' gotchas, and
attached to the features that fail in a run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.catalog import CatalogError, load_catalog, parse_catalog
from conformance.cli import main
from conformance.document import build_results
from conformance.report.markdown import render_matrix
from conformance.report.results import validate_results
from conformance.troubleshooting import current_section, readme_section
from tests.conftest import run_against_mock

REPO = Path(__file__).resolve().parents[1]
# The Grid's page, as captured when the project started (tests/data/README.md)
SEED_001 = REPO / "tests" / "data" / "seeds" / "001_1badc60d5130d121.txt"


def seed_gotchas(text: str) -> list[str]:
    """The bold headlines of a seed's "Common gotchas" section."""
    section = text.split("## Common gotchas", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\*\*(.+?)\*\*", section, re.MULTILINE)


def test_the_readme_section_is_generated_from_the_catalog() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert current_section(readme) == readme_section(load_catalog()), (
        "README troubleshooting section is stale: run `conformance troubleshooting --update-readme README.md`"
    )


def test_every_gotcha_of_seed_001_maps_to_a_catalog_entry() -> None:
    gotchas = seed_gotchas(SEED_001.read_text(encoding="utf-8"))
    assert len(gotchas) >= 6
    quoted = {doc: entry for entry in load_catalog().troubleshooting for doc in entry.vendor_docs}
    assert [g for g in gotchas if g not in quoted] == []
    for gotcha in gotchas:
        assert quoted[gotcha].features, gotcha


def test_every_entry_names_features_and_every_http_feature_has_an_entry() -> None:
    catalog = load_catalog()
    named = {feature for entry in catalog.troubleshooting for feature in entry.features}
    assert named <= set(catalog.features)
    http = {f.id for f in catalog if f.area == "http"}
    assert http <= named, "every HTTP-level feature explains itself to users"


def test_an_entry_naming_an_unknown_feature_is_refused() -> None:
    document = {
        "schema_version": 1,
        "areas": [{"id": "http", "title": "HTTP"}],
        "features": [
            {
                "id": "http.x",
                "title": "x",
                "area": "http",
                "endpoint": "GET /x",
                "level": "required",
                "description": "a feature for this test",
                "server_controls": "nothing here",
                "model_chooses": "nothing",
                "sdk_fields": [],
            }
        ],
        "troubleshooting": [
            {
                "id": "t.x",
                "symptom": "a symptom here",
                "cause": "a cause here",
                "fix": "a fix here",
                "features": ["y.z"],
            }
        ],
    }
    with pytest.raises(CatalogError, match="unknown features"):
        parse_catalog(document)


def test_a_failed_feature_carries_its_fix_into_the_reports() -> None:
    catalog = load_catalog()
    run = run_against_mock(["path.wrong_method_detail"], select=["http"])
    results = build_results(run, catalog)
    validate_results(results)
    failed = results["features"]["http.path.wrong_method"]
    assert failed["status"] == "nonconformant"
    assert [t["id"] for t in failed["troubleshooting"]] == ["error.unreadable"]
    assert "troubleshooting" not in results["features"]["http.path.unknown_route"]  # supported: no advice
    page = render_matrix(results)
    assert "## Troubleshooting" in page and "(`http.path.wrong_method`)" in page


def test_the_command_prints_the_guide_and_refuses_a_file_without_markers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["troubleshooting"]) == 0
    assert "Detected by `http.redirect.post`" in capsys.readouterr().out
    plain = tmp_path / "README.md"
    plain.write_text("# no markers here\n")
    assert main(["troubleshooting", "--update-readme", str(plain)]) == 2
    marked = tmp_path / "MARKED.md"
    marked.write_text(f"intro\n{readme_section(load_catalog()).replace('Cause', 'Old cause')}\noutro\n")
    assert main(["troubleshooting", "--update-readme", str(marked)]) == 0
    assert current_section(marked.read_text()) == readme_section(load_catalog())
    assert marked.read_text().startswith("intro\n") and marked.read_text().endswith("\noutro\n")
