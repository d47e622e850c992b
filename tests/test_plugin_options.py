"""The pytest plugin as a vendor's CI configures it: ini keys, level and area markers, and no cost to
the pytest sessions of an environment that merely has the package installed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from conformance.catalog import load_catalog
from conformance.plugin import GATE_CHOICES, OPTIONS
from conformance.policy import Reading
from conformance.verdict import Level


def pytest_in(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfs", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=directory,
    )


def test_every_option_is_also_an_ini_key(tmp_path: Path) -> None:
    done = pytest_in(tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    flags = set(re.findall(r"(--conformance-[a-z-]+)", done.stdout))
    keys = set(re.findall(r"^\s+(conformance_[a-z_]+) \(", done.stdout, re.MULTILINE))
    assert flags and {flag.removeprefix("--").replace("-", "_") for flag in flags} == keys
    assert {option.flag for option in OPTIONS} == flags
    assert set(GATE_CHOICES) == {reading.value for reading in Reading}


def test_ini_keys_configure_the_run_and_the_command_line_wins(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\n"
        "conformance_mock_quirk =\n"
        "    stream.done_missing\n"
        "conformance_out = reports/ci\n"  # relative to the ini file's directory
        "conformance_trials = 1\n"
        "conformance_name = Vendor from ini\n"
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    done = pytest_in(work, "-c", str(tmp_path / "pytest.ini"), "--pyargs", "conformance.checks", "-k", "done_sentinel")
    assert done.returncode == 1 and "1 failed" in done.stdout, done.stdout + done.stderr
    results = json.loads((tmp_path / "reports" / "ci" / "results.json").read_text())
    assert results["features"]["chat.stream.done_sentinel"]["status"] == "nonconformant"
    assert results["target"]["name"].startswith("Vendor from ini")
    # a flag beats the ini key
    out = tmp_path / "flag-out"
    done = pytest_in(
        work, "-c", str(tmp_path / "pytest.ini"), "--pyargs", "conformance.checks", "-k", "done_sentinel",
        "--conformance-out", str(out), "--conformance-name", "Vendor from flag",
    )  # fmt: skip
    assert json.loads((out / "results.json").read_text())["target"]["name"] == "Vendor from flag"


def test_pyproject_ini_options_and_a_bad_value(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nconformance_gate = "strict"\nconformance_mock_profile = "flexai"\n'
    )
    done = pytest_in(tmp_path, "--pyargs", "conformance.checks", "-k", "chat.n or models.list")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "param=n" in done.stdout  # the flexai profile declines n honestly: a skip
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\nconformance_timeout = "soon"\n')
    done = pytest_in(tmp_path, "--pyargs", "conformance.checks", "-k", "models.list")
    assert done.returncode != 0 and "conformance_timeout = soon: expected a float" in done.stdout + done.stderr


def test_level_and_area_markers_select(tmp_path: Path) -> None:
    catalog = load_catalog()
    required = sum(1 for feature in catalog if feature.level is Level.REQUIRED)
    done = pytest_in(tmp_path, "--strict-markers", "--pyargs", "conformance.checks", "-m", "required", "--co")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{required}/{len(catalog)} tests collected" in done.stdout
    chat_optional = sum(1 for f in catalog if f.area == "chat" and f.level is Level.OPTIONAL)
    done = pytest_in(tmp_path, "--pyargs", "conformance.checks", "-m", "area_chat and optional", "--co")
    assert f"{chat_optional}/{len(catalog)} tests collected" in done.stdout
    done = pytest_in(tmp_path, "--pyargs", "conformance.checks", "--markers")
    assert "@pytest.mark.required:" in done.stdout and "@pytest.mark.area_streaming:" in done.stdout


def test_an_unrelated_session_imports_nothing_of_the_engine(tmp_path: Path) -> None:
    (tmp_path / "test_unrelated.py").write_text(
        "import sys\n\n"
        "def test_the_conformance_plugin_stayed_small():\n"
        "    assert 'conformance.plugin' in sys.modules  # installed: pytest loaded its entry point\n"
        "    heavy = [m for m in ('conformance.engine', 'conformance.catalog', 'openai', 'yaml', 'jsonschema')\n"
        "             if m in sys.modules]\n"
        "    assert heavy == []\n"
    )
    done = pytest_in(tmp_path, "test_unrelated.py")
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, conformance.plugin; print(sorted(m for m in sys.modules if m.startswith('conformance')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert imported.strip() == "['conformance', 'conformance.capabilities', 'conformance.plugin']"
