"""The vendor profiles reproduce the seed vendors' own support tables, row by row.

Each profile runs the whole suite against the mock behaving as that vendor documents; the generated
docs page must say what the vendor's page says for every row it maps, except the rows where the
suite finds that the documented behaviour breaks the SDK: there the page says Broken, and links the
evidence. The vendors' tables are excerpts of their public pages, kept in tests/data/seeds (see
tests/data/README.md for where each comes from).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.catalog import load_catalog
from conformance.document import build_results
from conformance.engine import Engine
from conformance.mock.profiles import RESPONSES_API_ROWS, VENDOR_PROFILES, Profile
from conformance.mock.quirks import QUIRKS
from conformance.mock.routes import ROUTES
from conformance.mock.server import MockServer
from conformance.report.docs import BROKEN, NO, render_docs_page, row_verdicts
from conformance.report.markdown import cell
from conformance.report.results import validate_results
from conformance.target import Secret, Target
from tests.conftest import TEST_TIMEOUTS

SEEDS = Path(__file__).resolve().parent / "data" / "seeds"
# the seeds' words for support, as our page says them
SEED_STATUS = {"✓": "Yes", "yes": "Yes", "no": "No", "partial": "Partial"}


@cache
def profile_results(profile_id: str) -> dict[str, Any]:
    profile = VENDOR_PROFILES[profile_id]
    catalog = load_catalog()
    with MockServer(profile=profile.id) as server:
        target = Target(
            server.base_url,
            Secret(server.api_key),
            profile.target_models,
            name=f"{profile.vendor} (reference mock profile)",
            timeouts=TEST_TIMEOUTS,
            embedded_mock=True,
        )
        with Engine(target, catalog) as engine:
            run = engine.run()
    results = build_results(run, catalog)
    validate_results(results)
    return results


def seed_table(text: str) -> dict[str, str]:
    """Rows of a seed's support tables (label -> Yes/No/Partial), and of its supported / not
    supported bullet lists."""
    rows: dict[str, str] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] and not set(cells[0]) <= set("-: "):
            status = cells[1].split()[0].lower() if cells[1] else ""
            if status in SEED_STATUS:
                rows[cells[0]] = SEED_STATUS[status]
            elif cells[1].startswith("Via"):  # "Via ScaiMind": not in the compatibility layer
                rows[cells[0]] = "No"
    section = None
    for line in text.splitlines():
        if line.startswith("## "):
            section = {"## What's supported": "Yes", "## What's not supported": "No"}.get(line.strip())
        elif section and re.match(r"^\* ", line):
            rows[line[2:].strip()] = section
    return rows


def compare(profile: Profile) -> list[str]:
    """Every mismatch between the vendor's table and the generated page (empty: they agree)."""
    seed = (SEEDS / profile.seed).read_text(encoding="utf-8")
    documented = seed_table(seed)
    results = profile_results(profile.id)
    generated = {row.id: row for _, _, rows in row_verdicts(results) for row in rows}
    page = render_docs_page(results, report="report.html")
    mismatches = []
    for seed_label, row_ids in profile.seed_rows.items():
        assert seed_label in documented, f"{profile.seed} has no row {seed_label!r} (the seed changed?)"
        for row_id in row_ids:
            row = generated.get(row_id)
            expected = documented[seed_label]
            if row is None:
                mismatches.append(f"{row_id}: not on the page (the vendor says {expected})")
            elif row_id in profile.disagreements:
                if row.status != BROKEN:
                    mismatches.append(f"{row_id}: expected Broken ({profile.disagreements[row_id]}), got {row.status}")
            elif row.status != expected:
                mismatches.append(f"{row_id} ({seed_label}): the vendor says {expected}, the page {row.status}")
            if row is not None:  # and the page itself shows it
                assert f"| {cell(row.label, 120)} | {row.status} |" in page, row.label
    return mismatches


@pytest.mark.parametrize("profile_id", list(VENDOR_PROFILES))
def test_the_generated_page_reproduces_the_vendors_table(profile_id: str) -> None:
    assert compare(VENDOR_PROFILES[profile_id]) == []


@pytest.mark.parametrize("profile_id", list(VENDOR_PROFILES))
def test_every_disagreement_is_on_the_page_with_its_evidence(profile_id: str) -> None:
    profile = VENDOR_PROFILES[profile_id]
    results = profile_results(profile_id)
    rows = {row.id: row for _, _, section in row_verdicts(results) for row in section}
    page = render_docs_page(results, report="report.html")
    for row_id in profile.disagreements:
        row = rows[row_id]
        assert row.status == BROKEN and row.evidence is not None
        assert f"report.html#ev-{row.evidence}" in page


def test_scaigrid_error_frames_do_not_reach_an_sdk_user() -> None:
    # seed 000 says SDKs "surface the error via the usual error callback"; openai-python ignores an
    # `event: error` frame, so the user gets a short answer and no error: the page must say so
    feature = profile_results("scaigrid")["features"]["chat.stream.error_shape"]
    assert feature["status"] == "nonconformant" and "event: error" in feature["reason"]


def test_the_seed_table_parser() -> None:
    text = "| A | ✓ | x |\n|---|---|---|\n| B | Via X | |\nC | No | n\nD | Partial | p\n## What's supported\n* E\n"
    assert seed_table(text) == {"A": "Yes", "B": "No", "C": "No", "D": "Partial", "E": "Yes"}


# --- the Responses API: served by ScaiGrid, absent from The Grid --------------------------------------

RESPONSES_ABSENT = ("endpoint.responses_absent", "endpoint.responses_absent_detail")


def responses_features() -> set[str]:
    return {"endpoints.responses"} | {f.id for f in load_catalog() if f.area == "responses"}


@pytest.mark.parametrize("quirk_id", RESPONSES_ABSENT)
def test_without_the_responses_api_every_responses_feature_reads_unsupported(quirk_id: str) -> None:
    # the quirk names what it must move: every feature of the area, however many the catalog grows
    detects = QUIRKS[quirk_id].detects
    assert {f for f in responses_features() if detects.get(f) != "unsupported"} == set()


@pytest.mark.parametrize("quirk_id", RESPONSES_ABSENT)
def test_without_the_responses_api_every_route_of_it_is_absent(quirk_id: str) -> None:
    routes = [route for route in ROUTES if route.path.startswith("/responses")]
    assert {"/responses/compact", "/responses/input_tokens"} <= {route.path for route in routes}
    found = []
    for quirks in ((), (quirk_id,)):
        with (
            MockServer(quirks=quirks) as server,
            httpx.Client(base_url=server.base_url, headers={"authorization": f"Bearer {server.api_key}"}) as client,
        ):
            for route in routes:
                path = re.sub(r"\(\?P<\w+>[^)]*\)", "resp_absent", route.path).lstrip("/")
                answer = client.request(route.method, path, json={"model": "m", "input": "hi"})
                absent = answer.status_code == 404 and (
                    "Invalid URL" in answer.text or answer.json() == {"detail": "Not Found"}
                )
                found.append((quirks, route.method, path, absent))
    # the clean mock serves each route; with the quirk, each answers as a route the server lacks
    assert [f for f in found if f[3] != bool(f[0])] == []


def test_the_profiles_map_every_responses_api_row() -> None:
    # a vendor's one line about /responses answers for every row of the page's Responses API table
    section = next(section for section in load_catalog().docs if section.title == "Responses API")
    assert RESPONSES_API_ROWS == tuple(row.id for row in section.rows)


def test_scaigrid_serves_the_responses_api() -> None:
    # seed 000 lists POST /responses and GET /responses/{id} as supported, with no caveat
    features = profile_results("scaigrid")["features"]
    assert {f: features[f]["status"] for f in responses_features() if features[f]["status"] != "supported"} == {}
    score = profile_results("scaigrid")["open_responses"]
    assert score["passed"] == score["applicable"] > 0


def test_the_grid_page_says_which_tools_will_not_work() -> None:
    # seed 001: "Codex ... and any tool that calls client.responses.create() ... don't work with The Grid yet"
    results = profile_results("thegrid")
    catalog, models = load_catalog(), results["target"]["models"]
    # every feature declined, but those needing a model the vendor has not (vision: skipped, as for chat)
    unmodelled = {f for f in responses_features() if set(catalog[f].needs) - set(models)}
    assert {f: results["features"][f]["status"] for f in unmodelled} == dict.fromkeys(unmodelled, "skipped")
    assert {f for f in responses_features() - unmodelled if results["features"][f]["status"] != "unsupported"} == set()
    rows = {row.id: row for _, _, section in row_verdicts(results) for row in section}
    endpoint = rows["endpoint.responses"]
    consequence = next(
        row["consequence"]
        for section in results["docs"]
        for row in section["rows"]
        if row["id"] == "endpoint.responses"
    )
    assert endpoint.status == NO and endpoint.notes.endswith(consequence)
    assert "Codex" in consequence and "client.responses.create()" in consequence
    page = render_docs_page(results)
    assert f"| {cell(endpoint.label, 120)} | No | {cell(endpoint.notes, 300)} |" in page
    score = results["open_responses"]
    assert score["passed"] == 0 and score["decided"] == score["applicable"] > 0
    assert f"Open Responses compliance: **0/{score['applicable']}**" in page


# --- the Batch and Files APIs: ScaiGrid serves batches without a Files API, FlexAI neither ----------


def area_features(*areas: str) -> set[str]:
    return {f.id for f in load_catalog() if f.area in areas}


def test_scaigrid_runs_no_batch_without_a_files_api() -> None:
    # seed 000 lists POST /batches, GET /batches/{id} and POST /batches/{id}/cancel, but POST /files only
    # "via ScaiDrive": a batch cannot be given its input there, so the batch features are skipped and
    # say why, while the page's /v1/batches row reads Yes (the Batch API answers) and /v1/files No
    features = profile_results("scaigrid")["features"]
    batches = area_features("batches")
    assert {f: features[f]["status"] for f in batches} == dict.fromkeys(batches, "skipped")
    assert all("no batch input could be uploaded" in features[f]["reason"] for f in batches)
    assert features["endpoints.batches"]["status"] == "supported"
    assert {f for f in area_features("files") if features[f]["status"] != "unsupported"} == set()
    rows = {row.id: row for _, _, section in row_verdicts(profile_results("scaigrid")) for row in section}
    assert (rows["endpoint.batches"].status, rows["endpoint.files"].status) == ("Yes", NO)


def test_flexai_declines_files_and_batches() -> None:
    # seed 004: POST /v1/batches and GET /v1/files are not supported
    features = profile_results("flexai")["features"]
    assert {f for f in area_features("files", "batches") if features[f]["status"] != "unsupported"} == set()


def test_a_failure_from_another_request_names_the_request_whose_answer_it_quotes() -> None:
    # FlexAI has neither /files nor /batches, and the mock's 404 says which route it was ("Invalid URL
    # (GET /v1/batches)"): a reason that names a request must name that one. batches.cancel cites the
    # upload and the probe other features sent, and once named POST /files beside GET's answer
    features = profile_results("flexai")["features"]
    named = {
        fid: f["reason"]
        for fid, f in features.items()
        if f["area"] in ("files", "batches")
        and f["reason"].startswith("declined ")
        and not f["reason"].startswith("declined: ")
    }
    assert "batches.cancel" in named and "files.retrieve" in named
    causes = {cause["id"]: cause["summary"] for cause in profile_results("flexai")["causes"]}
    for fid, reason in named.items():
        request = reason.removeprefix("declined ").split(":")[0].split("?")[0]  # "GET /batches"
        method, path = request.split(" ")
        assert f"Invalid URL ({method} /v1{path})" in reason, (fid, reason)
        # and the run's root cause is that answer's: the deciding exchange is the evidence's last error
        assert f"({method} /v1{path})" in causes[features[fid]["cause"]], (fid, features[fid]["cause"])
