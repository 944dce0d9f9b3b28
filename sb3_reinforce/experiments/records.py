"""What is written beside a run: files written atomically, and the versions and machine that produced it."""

from __future__ import annotations

import json
import os
import platform
import secrets
from pathlib import Path
from typing import Any

__all__ = ["PHYSICS_ENGINES", "machine_info", "write_json_atomic", "write_text_atomic"]


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """
    Write ``text`` to a temporary file in the folder of ``path``, then rename it over ``path``.

    A reader (or a resumed benchmark) sees the old file or the new one, never a half-written one. The file gets the
    permissions a plain ``open(path, "w")`` would give it (the umask's), as the model files beside it do, not
    ``tempfile``'s owner-only ones.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            # 0o666 filtered by the umask, as open() creates files; O_EXCL: never write into another's file
            handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented JSON, atomically (:func:`write_text_atomic`)."""
    write_text_atomic(path, json.dumps(data, indent=2, default=repr) + "\n")


#: Packages whose versions a record names where installed: a task's numbers differ between their releases
PHYSICS_ENGINES = ("mujoco", "box2d")


def machine_info() -> dict[str, Any]:
    """
    The CPU, core count, platform and library versions of this machine (recorded with every run), with the physics
    engines' where installed: a MuJoCo task's numbers differ between MuJoCo releases.
    """
    from importlib.metadata import PackageNotFoundError, version

    import gymnasium as gym
    import numpy as np
    import stable_baselines3
    import torch as th

    import sb3_reinforce

    physics = {}
    for engine in PHYSICS_ENGINES:
        try:
            physics[engine] = version(engine)
        except PackageNotFoundError:
            pass
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
        **physics,
    )
