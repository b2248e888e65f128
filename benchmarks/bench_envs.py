"""ALFWorld env throughput: our wrapper vs the raw TextWorld env, and 1 vs 2 Ray workers.

Prints ratios measured in one run: wrapper/raw steps per second (the cost of the interface), and the
speed-up of collecting the same episodes with 2 workers instead of 1.
"""

from __future__ import annotations

import json
import time
from typing import Any

from envs.alfworld_env import BUNDLED_DATA_ROOT, AlfWorldEnv, list_alfworld_tasks
from envs.ray_workers import EnvWorkerPool


def _walkthroughs() -> list[tuple[str, list[str]]]:
    tasks = list_alfworld_tasks(BUNDLED_DATA_ROOT, "train")
    return [(t.kwargs["game_file"], json.load(open(t.kwargs["game_file"]))["walkthrough"]) for t in tasks]


def _walk_steps_per_s(env: Any, reset: Any, games: list[tuple[str, list[str]]], rounds: int) -> float:
    """Steps per second of replaying each game's walkthrough (`reset(game)` before each; resets not timed)."""
    steps, elapsed = 0, 0.0
    for _ in range(rounds):
        for game, walk in games:
            reset(game)
            t0 = time.perf_counter()
            for a in walk:
                env.step(a)
            elapsed += time.perf_counter() - t0
            steps += len(walk)
    env.close()
    return steps / elapsed


def raw_steps_per_s(games: list[tuple[str, list[str]]], rounds: int) -> float:
    import textworld
    from alfworld.agents.environment.alfred_tw_env import AlfredDemangler, AlfredExpert, AlfredExpertType, AlfredInfos

    infos = textworld.EnvInfos(won=True, admissible_commands=True, feedback=True, extras=["gamefile", "expert_plan"])
    env = textworld.start(
        games[0][0],
        request_infos=infos,
        wrappers=[AlfredDemangler(shuffle=False), AlfredInfos, AlfredExpert(AlfredExpertType.HANDCODED)],
    )

    def reset(game: str) -> None:
        env.load(game)
        env.reset()

    return _walk_steps_per_s(env, reset, games, rounds)


def wrapper_steps_per_s(games: list[tuple[str, list[str]]], rounds: int) -> float:
    from envs.base import TaskSpec

    env = AlfWorldEnv()
    return _walk_steps_per_s(
        env, lambda game: env.reset(TaskSpec("alfworld", game, "bench", {"game_file": game})), games, rounds
    )


def episodes_per_s(num_workers: int, episodes: int) -> float:
    tasks = list_alfworld_tasks(BUNDLED_DATA_ROOT, "train")
    jobs = [
        {
            "episode_id": f"{i}",
            "task": tasks[i % len(tasks)].to_dict(),
            "episode_index": i,
            "max_steps": 30,
            "policy": {"name": "expert", "epsilon": 0.0},
            "env_kwargs": {},
            "seed": 0,
        }
        for i in range(episodes)
    ]
    with EnvWorkerPool("data_prep.play_episode:run_episode_job", num_workers=num_workers) as pool:
        warm = [dict(j, episode_id=f"warm{k}") for k, j in enumerate(jobs[:num_workers])]
        list(pool.run(warm))  # start the actors and their TextWorld envs outside the timing
        t0 = time.perf_counter()
        n = sum(1 for _ in pool.run(jobs))
        return n / (time.perf_counter() - t0)


def main() -> None:
    games = _walkthroughs()
    raw = raw_steps_per_s(games, rounds=3)
    ours = wrapper_steps_per_s(games, rounds=3)
    print(f"ALFWorld steps/s: raw TextWorld env {raw:.1f}, our AlfWorldEnv {ours:.1f}; wrapper/raw = {ours / raw:.2f}")
    one = episodes_per_s(1, 12)
    two = episodes_per_s(2, 12)
    print(f"episodes/s with Ray workers: 1 -> {one:.2f}, 2 -> {two:.2f}; speed-up 2 vs 1 = {two / one:.2f}x")


if __name__ == "__main__":
    main()
