"""Test-wide set-up: markers for external programs, ``--quick``, and the server fixtures.

A test that needs a real program carries its marker (``@pytest.mark.redis`` and so on). When the
program is missing the test is skipped locally, and fails when ``CI=true``: in CI a missing
program is a broken set-up, never a reason to pass.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.servers import *  # noqa: F403  (fixtures are found by name)

# marker -> a program whose presence proves the marker's dependency is installed
PROGRAMS: dict[str, str] = {
    "redis": "redis-server",
    "postgres": "/usr/lib/postgresql/15/bin/pg_ctl",
    "mariadb": "mariadbd",
    "etcd": "etcd",
    "go": "go",
    "chromium": "chromium",
    "wrk": "wrk",
}

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--quick", action="store_true", help="skip tests marked slow (a fast local loop)"
    )


def have_program(marker: str) -> bool:
    program = PROGRAMS[marker]
    return os.path.exists(program) if program.startswith("/") else bool(shutil.which(program))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--quick"):
        for item in items:
            if item.get_closest_marker("slow"):
                item.add_marker(pytest.mark.skip(reason="--quick"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, program in PROGRAMS.items():
        if item.get_closest_marker(marker) and not have_program(marker):
            message = f"{program} is not installed (scripts/system-deps.sh installs it)"
            if IN_CI:
                pytest.fail(f"CI=true and {message}", pytrace=False)
            pytest.skip(message)
