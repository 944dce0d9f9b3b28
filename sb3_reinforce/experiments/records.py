"""What is written beside a run: files written atomically, and the versions and machine that produced it."""

from __future__ import annotations

import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["machine_info", "write_json_atomic", "write_text_atomic"]


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """
    Write ``text`` to a temporary file in the folder of ``path``, then rename it over ``path``.

    A reader (or a resumed benchmark) sees the old file or the new one, never a half-written one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented JSON, atomically (:func:`write_text_atomic`)."""
    write_text_atomic(path, json.dumps(data, indent=2, default=repr) + "\n")


def machine_info() -> dict[str, Any]:
    """The CPU, core count, platform and library versions of this machine (recorded with every run)."""
    import gymnasium as gym
    import numpy as np
    import stable_baselines3
    import torch as th

    import sb3_reinforce

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), cpu)
    except OSError:
        pass
    return dict(
        cpu=cpu,
        cpu_count=os.cpu_count(),
        platform=platform.platform(),
        python=platform.python_version(),
        sb3_reinforce=sb3_reinforce.__version__,
        stable_baselines3=stable_baselines3.__version__,
        gymnasium=gym.__version__,
        torch=th.__version__,
        numpy=np.__version__,
    )
