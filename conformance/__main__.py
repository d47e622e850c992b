"""``python -m conformance`` and the ``conformance`` console script (``pyproject.toml``).

Importing the command line takes a while (the SDK, pydantic, the catalog): a Ctrl-C in that second
would otherwise end in a traceback, before ``cli.main`` can catch anything. So the import happens
here, guarded, and this module imports nothing else at the top.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a process Ctrl-C ended


def entry() -> int:
    """Run the command line; a Ctrl-C anywhere, imports included, is one line and exit 130."""
    try:
        from conformance.cli import main

        return main()
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(entry())
