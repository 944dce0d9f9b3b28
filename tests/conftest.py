"""
Shared pytest set-up.

CI runs the optional integrations' tests (RL Zoo, Ray, ...) a second time with their extras installed and
``REQUIRE_EXTRAS=1``: there, a test that skips for a missing extra (a skip reason naming ``sb3-reinforce[...]``)
fails instead, so a missing install step cannot pass unnoticed.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("REQUIRE_EXTRAS") and report.skipped and "sb3-reinforce[" in str(report.longrepr):
        report.outcome = "failed"
        report.longrepr = f"REQUIRE_EXTRAS is set but the test skipped: {report.longrepr}"


@pytest.fixture(scope="session")
def ray_address() -> Iterator[str]:
    """
    One local Ray instance for the tests that need it (2 CPUs, loopback only, never a cluster found on the machine),
    whose workers import this checkout (PYTHONPATH). Skips without Ray.
    """
    ray = pytest.importorskip("ray", reason='needs ray: pip install "sb3-reinforce[ray]"')
    if ray.is_initialized():
        ray.shutdown()
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=200 * 1024**2,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},
    )
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
