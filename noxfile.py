"""The self-tests under each supported openai SDK line, each in its own virtual environment.

    nox -s sdk_lines                       # 1.109.1, 2.54.0 and the pin, one after the other
    nox -s "sdk_lines(openai='1.109.1')"   # one line

The package pins ``openai`` exactly, so an older line cannot be installed through the package's own
requirements: each session installs the other requirements (read from pyproject.toml, so there is one
list), then the SDK line, then the package itself without dependencies.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import nox

# The vendor seeds' pin, the last 2.x, and our pin (the three lines docs/sdk-facts.md#sdk-lines compares).
SDK_LINES = ["1.109.1", "2.54.0", "3.54.0"]
ROOT = Path(__file__).resolve().parent

nox.options.sessions = ["sdk_lines"]
nox.options.reuse_existing_virtualenvs = True


def requirements_without_openai() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    return sorted({r for r in wanted if not r.replace(" ", "").lower().startswith("openai")})


@nox.session(venv_backend="venv")
@nox.parametrize("openai", SDK_LINES)
def sdk_lines(session: nox.Session, openai: str) -> None:
    """pytest with openai==<line> installed."""
    # pytest-xdist: CI runs these sessions on two workers (-n 2) to stay within its time budget
    session.install(*requirements_without_openai(), f"openai=={openai}", "pytest-xdist")
    session.install("--no-deps", "-e", ".")
    session.run("python", "-c", "import openai; print('openai', openai.__version__)")
    # the pin gate's snapshot is skipped under the other lines, so syrupy must not fail it as unused
    session.run("pytest", "--snapshot-warn-unused", *session.posargs)
