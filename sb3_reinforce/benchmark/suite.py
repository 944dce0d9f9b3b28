"""
The benchmark's suite: per env, REINFORCE's budget of env steps, the target the benchmark scores runs against (its
*threshold*), the score of a uniformly random policy, and the figures rl-baselines3-zoo publishes for the peers.

* **Budget and target** are those of the issue "REINFORCE that works beyond its two home envs" (issue 19; its full
  goal, e.g. "500 in ≥ 9/10 seeds", is :attr:`SuiteEnv.goal`). The target is the one number a learning curve is
  compared with: "seeds solved" and "steps (or seconds) to reach / stay at the threshold" use it. It replaces the
  gym spec's ``reward_threshold`` (kept in :attr:`SuiteEnv.gym_threshold` for reference), which Pendulum lacks and
  which is lower than the target elsewhere (CartPole 475, MountainCarContinuous 90).
* **Random score**: the mean return of :func:`random_policy_score` (100 episodes of uniformly random actions, episode
  ``i`` reset with seed ``i``, the action space seeded with 0), measured once and written here; the test suite
  measures the cheap ones again. Scores are normalized across envs as ``(score - random) / (target - random)``: 0 is
  the random policy, 1 the target.
* **Published figures** (:class:`PublishedScore`) are reference marks, not runs of ours: rl-baselines3-zoo's
  ``benchmark.md`` (one run each, deterministic evaluation; MuJoCo tasks there are ``-v3`` and LunarLander ``-v2``,
  where the suite has ``-v5`` and ``-v3``), the peers of issue 19's table, and SAC on the MuJoCo tasks, which does
  not fit the grid's 2 cores (issue 22).

This module is plain data: it imports neither gymnasium nor torch (:func:`random_policy_score` imports gymnasium
when called), so that the report reads it as cheaply as the records.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFAULTS_ALGOS",
    "DEFAULTS_ENVS",
    "HELD_OUT_SEEDS",
    "PEER_SEEDS",
    "RANDOM_EPISODES",
    "SUITE",
    "ZOO_BENCHMARK",
    "PublishedScore",
    "SuiteEnv",
    "normalized_score",
    "planned_runs",
    "random_policy_score",
]

#: Where the zoo's figures come from (the commit of ``benchmark.md`` they were copied from)
ZOO_BENCHMARK = "rl-baselines3-zoo benchmark.md (0088472)"
#: Episodes of :func:`random_policy_score`
RANDOM_EPISODES = 100


@dataclass(frozen=True)
class PublishedScore:
    """
    A score published elsewhere: a reference mark beside the runs of the grid.

    :param algo: Algorithm (``ppo``, ``a2c``, ``sac``, or a name outside the grid such as ``dqn``)
    :param score: Mean return of the published evaluation
    :param timesteps: Its training budget in env steps
    :param source: Where it is published (with the env version when it differs from the suite's)
    """

    algo: str
    score: float
    timesteps: int
    source: str


@dataclass(frozen=True)
class SuiteEnv:
    """
    One env of the suite.

    :param env_id: Gymnasium id
    :param budget: REINFORCE's budget of env steps (issue 19)
    :param target: The threshold the benchmark scores runs against (issue 19's target for the IQM)
    :param goal: Issue 19's full target, in words
    :param gym_threshold: The gym spec's ``reward_threshold`` (None: it has none), for reference
    :param random_score: Mean return of :func:`random_policy_score`
    :param algos: Algorithms the grid runs on the env (issue 22)
    :param published: Published figures of other runs
    """

    env_id: str
    budget: int
    target: float
    goal: str
    gym_threshold: float | None
    random_score: float
    algos: tuple[str, ...]
    published: tuple[PublishedScore, ...] = ()

    def normalize(self, score: float) -> float:
        """``(score - random) / (target - random)``: 0 for the random policy, 1 at the target."""
        return (score - self.random_score) / (self.target - self.random_score)


def _zoo(algo: str, score: float, timesteps: int, version: str = "") -> PublishedScore:
    return PublishedScore(algo, score, timesteps, ZOO_BENCHMARK + (f", {version}" if version else ""))


_CLASSIC = ("reinforce", "ppo", "a2c")
_CONTINUOUS = ("reinforce", "ppo", "sac", "a2c")
_TIANSHOU = "Tianshou's MuJoCo benchmark, 10M steps (as quoted in issue 19)"

#: The suite, in the order of the page; random scores measured with gymnasium 1.4.0 (MuJoCo 4.0.0, Box2D 2.3.10)
SUITE: dict[str, SuiteEnv] = {
    env.env_id: env
    for env in (
        SuiteEnv(
            "CartPole-v1",
            50_000,
            500.0,
            "500 in ≥ 9/10 seeds",
            475.0,
            23.68,
            _CLASSIC,
            (_zoo("ppo", 500.0, 100_000), _zoo("a2c", 500.0, 500_000)),
        ),
        SuiteEnv(
            "Acrobot-v1",
            500_000,
            -85.0,
            "IQM ≥ -85, every seed ≥ -100",
            -100.0,
            -497.08,
            _CLASSIC,
            (_zoo("ppo", -73.506, 1_000_000), _zoo("a2c", -83.353, 500_000)),
        ),
        SuiteEnv(
            "MountainCar-v0",
            500_000,
            -110.0,
            "IQM ≥ -110, ≥ 9/10 seeds ≥ -110",
            -110.0,
            -200.0,
            _CLASSIC,
            (_zoo("ppo", -110.423, 1_000_000), _zoo("a2c", -111.263, 1_000_000), _zoo("dqn", -100.849, 120_000)),
        ),
        SuiteEnv(
            "MountainCarContinuous-v0",
            150_000,
            98.0,
            "IQM ≥ 98, every seed ≥ 96",
            90.0,
            -33.2517,
            _CONTINUOUS,
            (
                _zoo("ppo", 88.343, 20_000),
                _zoo("sac", 94.679, 50_000),
                _zoo("a2c", 91.166, 100_000),
                _zoo("ars", 96.672, 500_000),
            ),
        ),
        SuiteEnv(
            "Pendulum-v1",
            1_000_000,
            -200.0,
            "IQM ≥ -200, every seed ≥ -300",
            None,
            -1207.555,
            _CONTINUOUS,
            (_zoo("ppo", -172.225, 100_000), _zoo("sac", -156.995, 20_000), _zoo("a2c", -162.965, 1_000_000)),
        ),
        SuiteEnv(
            "LunarLander-v3",
            1_000_000,
            200.0,
            "IQM ≥ 200, ≥ 9/10 seeds ≥ 200",
            200.0,
            -191.959,
            _CLASSIC,
            (_zoo("ppo", 242.119, 1_000_000, "LunarLander-v2"), _zoo("a2c", 155.751, 200_000, "LunarLander-v2")),
        ),
        SuiteEnv(
            "Hopper-v5",
            1_000_000,
            1000.0,
            "IQM ≥ 1000",
            3800.0,
            16.669,
            _CLASSIC,
            (
                _zoo("ppo", 2410.435, 1_000_000, "Hopper-v3"),
                _zoo("sac", 2325.547, 1_000_000, "Hopper-v3"),
                _zoo("a2c", 733.454, 1_000_000, "Hopper-v3"),
                PublishedScore("reinforce", 416.0, 10_000_000, _TIANSHOU),
            ),
        ),
        SuiteEnv(
            "HalfCheetah-v5",
            1_000_000,
            1500.0,
            "IQM ≥ 1500",
            4800.0,
            -282.487,
            _CLASSIC,
            (
                _zoo("ppo", 5819.099, 1_000_000, "HalfCheetah-v3"),
                _zoo("sac", 9535.451, 1_000_000, "HalfCheetah-v3"),
                _zoo("a2c", 3041.174, 1_000_000, "HalfCheetah-v3"),
                PublishedScore("reinforce", 1139.0, 10_000_000, _TIANSHOU),
            ),
        ),
        SuiteEnv(
            "Swimmer-v5",
            1_000_000,
            200.0,
            "IQM ≥ 200",
            360.0,
            0.803,
            _CLASSIC,
            (
                _zoo("ppo", 281.561, 1_000_000, "Swimmer-v3"),
                _zoo("sac", 345.568, 1_000_000, "Swimmer-v3"),
                _zoo("a2c", 200.627, 1_000_000, "Swimmer-v3"),
            ),
        ),
    )
}


#: The seeds of the grid (issue 22): REINFORCE's entries run on the ten held-out seeds (docs/held_out_seeds.md), the
#: peers and every algorithm's defaults on the first five
HELD_OUT_SEEDS: tuple[int, ...] = tuple(range(1000, 1010))
PEER_SEEDS: tuple[int, ...] = HELD_OUT_SEEDS[:5]
#: The algorithms whose defaults the grid runs (``--settings defaults``), and the envs: the classic ones
DEFAULTS_ALGOS: tuple[str, ...] = _CLASSIC
DEFAULTS_ENVS: tuple[str, ...] = (
    "CartPole-v1",
    "Acrobot-v1",
    "MountainCar-v0",
    "MountainCarContinuous-v0",
    "Pendulum-v1",
    "LunarLander-v3",
)
#: Issue 22's budget for the whole grid: "about 8 hours of a 2-core machine", in seconds of one core
GRID_BUDGET_CORE_SECONDS = 2 * 8 * 3600


def planned_runs() -> list[tuple[str, str, str, tuple[int, ...]]]:
    """
    The grid of issue 22: ``(env_id, algo, settings, seeds)`` for every algorithm the suite plans on each env (tuned
    settings), then every algorithm's defaults on the classic envs.

    >>> planned_runs()[0], len(planned_runs())
    (('CartPole-v1', 'reinforce', 'tuned', (1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009)), 47)
    """
    tuned = [
        (env.env_id, algo, "tuned", HELD_OUT_SEEDS if algo == "reinforce" else PEER_SEEDS)
        for env in SUITE.values()
        for algo in env.algos
    ]
    defaults = [(env_id, algo, "defaults", PEER_SEEDS) for env_id in DEFAULTS_ENVS for algo in DEFAULTS_ALGOS]
    return tuned + defaults


def normalized_score(env_id: str, score: float) -> float | None:
    """``score`` normalized by its env of the suite (:meth:`SuiteEnv.normalize`); None for an env outside the suite."""
    return SUITE[env_id].normalize(score) if env_id in SUITE else None


def random_policy_score(env_id: str, episodes: int = RANDOM_EPISODES, seed: int = 0) -> float:
    """
    Mean return of a uniformly random policy: ``episodes`` episodes, episode ``i`` reset with seed ``seed + i``,
    actions drawn by the action space seeded with ``seed``; the env's own reward and time limit.

    :param env_id: Gymnasium id
    :param episodes: Number of episodes
    :param seed: Seed of the first episode and of the action space
    :return: The mean return
    """
    import gymnasium as gym

    env = gym.make(env_id)
    env.action_space.seed(seed)
    total = 0.0
    try:
        for episode in range(episodes):
            env.reset(seed=seed + episode)
            done = False
            while not done:
                _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
                total += float(reward)
                done = terminated or truncated
    finally:
        env.close()
    return total / episodes
