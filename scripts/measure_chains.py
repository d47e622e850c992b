"""Measure each feature's chain of requests against the reference mock and write conformance/chains.json:

    python scripts/measure_chains.py

A chain is the requests a feature sends one after another, plus those of a shared request it waits
for (checks/_requests.py). The scheduler starts the longest chains first (conformance/bounds.py);
tests/test_run_bounds.py fails when the file no longer matches a run, e.g. after a check changed.
"""

from __future__ import annotations

import json

from conformance.bounds import CHAINS_FILE
from conformance.catalog import load_catalog
from conformance.embedded import embedded_target
from conformance.engine import Engine


def measure() -> dict[str, int]:
    """Every feature's chain in a run against the embedded mock, one feature at a time, in run order."""
    catalog = load_catalog()
    with embedded_target() as target, Engine(target, catalog, concurrency=1) as engine:
        return dict(sorted(engine.run().chains.items()))


if __name__ == "__main__":
    chains = measure()
    CHAINS_FILE.write_text(json.dumps(chains, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {CHAINS_FILE}: {len(chains)} features, longest chain {max(chains.values())} requests")
