"""
Shared pytest set-up.

CI runs the optional integrations' tests (RL Zoo, Ray, ...) a second time with their extras installed and
``REQUIRE_EXTRAS=1``: there, a test that skips for a missing extra (a skip reason naming ``sb3-reinforce[...]``)
fails instead, so a missing install step cannot pass unnoticed.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("REQUIRE_EXTRAS") and report.skipped and "sb3-reinforce[" in str(report.longrepr):
        report.outcome = "failed"
        report.longrepr = f"REQUIRE_EXTRAS is set but the test skipped: {report.longrepr}"
