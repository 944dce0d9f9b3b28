"""Watch a saved model (:func:`play`) and render it to a GIF or MP4 (:func:`record`)."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_reinforce.experiments.saved import DEFAULT_EVAL_SEED, LoadedRun, load_run

__all__ = ["Recording", "play", "record"]


def play(
    model: str | os.PathLike[str] | LoadedRun,
    n_episodes: int = 3,
    seed: int = DEFAULT_EVAL_SEED,
    render_mode: str | None = None,
    deterministic: bool = True,
) -> Iterator[tuple[float, int]]:
    """
    Play episodes with a saved model on the true task; yields each episode's true return and length as it ends.

    :param model: ``P`` or ``P.zip`` saved by ``train``, or a model loaded by :func:`~sb3_reinforce.experiments.saved.load_run`
    :param render_mode: ``"human"`` opens a window (None: no rendering)
    """
    run = model if isinstance(model, LoadedRun) else load_run(model)
    env = run.make_env(seed=seed, render_mode=render_mode)
    try:
        obs = env.reset()
        finished = 0
        while finished < n_episodes:
            action, _ = run.model.predict(obs, deterministic=deterministic)  # type: ignore[arg-type]
            obs, _, dones, infos = env.step(action)
            if dones[0]:
                finished += 1
                episode = infos[0]["episode"]  # Monitor: the env's own reward (no shaping at evaluation)
                yield float(episode["r"]), int(episode["l"])
    finally:
        env.close()


@dataclass
class Recording:
    """What :func:`record` wrote."""

    n_frames: int
    width: int
    height: int
    fps: float


class _FrameCapture(gym.Wrapper):
    """Render after every reset and step, keeping the frames of each episode (including its last one)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.episodes: list[list[np.ndarray]] = []

    def reset(self, **kwargs: Any) -> Any:
        result = self.env.reset(**kwargs)
        self.episodes.append([np.asarray(self.env.render())])
        return result

    def step(self, action: Any) -> Any:
        result = self.env.step(action)
        self.episodes[-1].append(np.asarray(self.env.render()))
        return result


def _resize(frame: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return frame
    from PIL import Image

    height, width = frame.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.LANCZOS))


def _most_frames(env_id: str, n_episodes: int, frame_skip: int, max_frames: int | None) -> int | None:
    """An upper bound on the frames :func:`record` writes, known before rendering (None: no bound)."""
    limit = gym.spec(env_id).max_episode_steps
    if limit is None:
        return max_frames
    # Each episode renders its reset and every step; one frame in frame_skip is kept, plus the last
    per_episode = math.ceil((limit + 1) / frame_skip) + 1
    return n_episodes * per_episode if max_frames is None else min(max_frames, n_episodes * per_episode)


def record(
    model: str | os.PathLike[str] | LoadedRun,
    output: str | os.PathLike[str],
    n_episodes: int = 1,
    seed: int = DEFAULT_EVAL_SEED,
    frame_skip: int = 1,
    fps: float | None = None,
    scale: float = 1.0,
    snapshot: str | os.PathLike[str] | None = None,
    snapshot_index: int | None = None,
    max_frames: int | None = None,
    deterministic: bool = True,
) -> Recording:
    """
    Render a saved model's episodes (``rgb_array``) to a GIF or MP4, chosen by the ``output`` extension.

    :param model: ``P`` or ``P.zip`` saved by ``train``, or a model loaded by :func:`~sb3_reinforce.experiments.saved.load_run`
    :param output: The video file (``.gif`` or ``.mp4``)
    :param n_episodes: Number of episodes to play
    :param seed: Seed of the env
    :param frame_skip: Keep one frame in ``frame_skip`` (the last frame of each episode is always kept); the frame
        rate is divided by as much, so the video still plays in real time
    :param fps: Frames per second of the video (None: the env's ``render_fps`` divided by ``frame_skip``)
    :param scale: Resize frames by this factor (1: the env's own frame size)
    :param snapshot: Also save one frame as an image (PNG...)
    :param snapshot_index: Which of the written frames to save (None: the middle of the first episode)
    :param max_frames: Stop after this many rendered frames (None: play the episodes to their end)
    :param deterministic: Play the deterministic policy
    :return: What was written
    :raise ValueError: For an unsupported file type, a bad frame skip, scale or snapshot index
    """
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ValueError(f"unsupported output {output.name!r}: use a .gif or .mp4 file name")
    if frame_skip < 1:
        raise ValueError(f"frame_skip must be >= 1, got {frame_skip}")
    if not 0 < scale <= 4:
        raise ValueError(f"scale must be in (0, 4], got {scale}")
    if snapshot_index is not None and snapshot is None:
        raise ValueError("snapshot_index needs a snapshot file (--snapshot FILE)")
    import imageio.v3 as iio

    run = model if isinstance(model, LoadedRun) else load_run(model)
    # A snapshot index beyond every frame the episodes can have fails now, not after rendering them
    most = _most_frames(run.config.env_id, n_episodes, frame_skip, max_frames)
    if snapshot_index is not None and most is not None and not -most <= snapshot_index < most:
        raise ValueError(f"snapshot_index {snapshot_index} out of range: at most {most} frames will be written")
    vec_env = run.make_env(seed=seed, render_mode="rgb_array", vec_env_cls=DummyVecEnv)
    inner = vec_env.venv if hasattr(vec_env, "venv") else vec_env
    assert isinstance(inner, DummyVecEnv)
    capture = _FrameCapture(inner.envs[0])
    inner.envs[0] = capture

    obs = vec_env.reset()
    finished = 0
    while finished < n_episodes and (max_frames is None or sum(map(len, capture.episodes)) < max_frames):
        action, _ = run.model.predict(obs, deterministic=deterministic)  # type: ignore[arg-type]
        obs, _, dones, _ = vec_env.step(action)
        finished += int(dones[0])
    env_fps = float(capture.metadata.get("render_fps") or 30)
    vec_env.close()

    frames: list[np.ndarray] = []
    for episode in capture.episodes[:n_episodes]:
        kept = episode[::frame_skip]
        if (len(episode) - 1) % frame_skip:
            kept.append(episode[-1])
        frames.extend(_resize(frame, scale) for frame in kept)
    if max_frames is not None:
        frames = frames[:max_frames]
    if not frames:
        raise ValueError("no frame rendered")
    video_fps = env_fps / frame_skip if fps is None else fps
    index = None
    if snapshot is not None:
        first = len(capture.episodes[0][::frame_skip])
        index = min(first, len(frames)) // 2 if snapshot_index is None else snapshot_index
        if not -len(frames) <= index < len(frames):
            raise ValueError(f"snapshot_index {index} out of range: {len(frames)} frames")
    output.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".gif":
        # Pillow: duration of each frame in milliseconds, loop forever
        iio.imwrite(output, np.stack(frames), extension=".gif", duration=1000.0 / video_fps, loop=0)
    else:
        # imageio-ffmpeg (libx264, yuv420p needs even sizes); the default macro block of 16 would resize 600x400 frames
        iio.imwrite(output, np.stack(frames), extension=".mp4", fps=video_fps, macro_block_size=2)
    if snapshot is not None and index is not None:
        Path(snapshot).parent.mkdir(parents=True, exist_ok=True)
        iio.imwrite(Path(snapshot), frames[index])
    return Recording(n_frames=len(frames), width=frames[0].shape[1], height=frames[0].shape[0], fps=video_fps)
