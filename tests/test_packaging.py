"""pyproject.toml declares its license as an SPDX expression (PEP 639), so setuptools builds without its
deprecation warning (a ``license = {text = ...}`` table stops building after 2027-02-18)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_license_is_an_spdx_expression_and_setuptools_can_read_it() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert project["project"]["license"] == "Apache-2.0"
    assert "License ::" not in " ".join(project["project"].get("classifiers", []))  # PEP 639: not both
    # setuptools reads an SPDX `license` string from 77.0 on
    [setuptools] = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    match = re.fullmatch(r"setuptools>=(\d+)(?:\.\d+)*", setuptools)
    assert match is not None and int(match.group(1)) >= 77
