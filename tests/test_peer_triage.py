"""The hand-written triage of each peer run (reports/peers/<peer>/TRIAGE.md) matches its results.json.

Every feature whose verdict is not `supported` has a table row naming it with that verdict, no row
names a feature that is supported (a stale row after a regeneration), and no feature is in `error`
(the harness could not decide: a peer run must always reach a verdict).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

PEERS = Path(__file__).resolve().parents[1] / "reports" / "peers"
FEATURE_ID = re.compile(r"`?([a-z_]+(?:\.[a-z0-9_]+)+)`?")


def peer_dirs() -> list[Path]:
    if not PEERS.is_dir():
        return []
    return sorted(path for path in PEERS.iterdir() if (path / "results.json").is_file())


def triage_rows(text: str) -> dict[str, str]:
    """Feature ID -> verdict, from the Markdown table rows `| feature | verdict | why |`."""
    rows: dict[str, str] = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|") or len(cells) < 3:
            continue
        match = FEATURE_ID.fullmatch(cells[0])
        if match:
            rows[match.group(1)] = cells[1].strip("`* ").split()[0] if cells[1].strip("`* ") else ""
    return rows


def load(peer: Path) -> tuple[dict[str, Any], dict[str, str]]:
    results = json.loads((peer / "results.json").read_text(encoding="utf-8"))
    triage = peer / "TRIAGE.md"
    assert triage.is_file(), f"{triage} is missing: write one row per non-supported feature"
    return results["features"], triage_rows(triage.read_text(encoding="utf-8"))


PEER_DIRS = peer_dirs()
pytestmark = pytest.mark.skipif(not PEER_DIRS, reason="no reports/peers/<peer>/results.json (run the peers script)")


@pytest.mark.parametrize("peer", PEER_DIRS, ids=lambda path: path.name)
def test_every_non_supported_feature_is_triaged(peer: Path) -> None:
    features, rows = load(peer)
    expected = {fid: f["status"] for fid, f in features.items() if f["status"] != "supported"}
    missing = sorted(fid for fid in expected if fid not in rows)
    wrong = sorted(
        f"{fid}: TRIAGE says {rows[fid]!r}, results.json {st!r}"
        for fid, st in expected.items()
        if fid in rows and rows[fid] != st
    )
    assert not missing, f"{peer.name}: no TRIAGE.md row for {missing}"
    assert not wrong, f"{peer.name}: verdicts differ: {wrong}"


@pytest.mark.parametrize("peer", PEER_DIRS, ids=lambda path: path.name)
def test_no_stale_triage_rows(peer: Path) -> None:
    features, rows = load(peer)
    unknown = sorted(fid for fid in rows if fid not in features)
    stale = sorted(fid for fid in rows if fid in features and features[fid]["status"] == "supported")
    assert not unknown, f"{peer.name}: TRIAGE.md rows name features the catalog does not have: {unknown}"
    assert not stale, f"{peer.name}: TRIAGE.md rows for features now supported: {stale}"


@pytest.mark.parametrize("peer", PEER_DIRS, ids=lambda path: path.name)
def test_no_harness_errors(peer: Path) -> None:
    features, _ = load(peer)
    errors = {fid: f["reason"] for fid, f in features.items() if f["status"] == "error"}
    assert not errors, f"{peer.name}: the harness could not decide: {errors}"
