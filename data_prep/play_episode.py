"""Play one episode of a text environment with a policy, and the pool job that wraps it."""

from __future__ import annotations

import hashlib
from typing import Any

from data_prep.policies import Policy, PolicyContext, make_policy
from data_prep.policy_actions import format_error_message
from envs.base import TaskSpec, TextEnv
from envs.episode import FORMAT_ERROR_KIND, Episode, StepRecord, episode_id
from envs.registry import make_env


def episode_seed(base_seed: int, eid: str) -> int:
    """A seed that depends only on the run seed and the episode, not on worker or order."""
    return int.from_bytes(hashlib.sha256(f"{base_seed}:{eid}".encode()).digest()[:8], "little")


def run_episode(
    env: TextEnv, policy: Policy, task: TaskSpec, episode_index: int, max_steps: int, seed: int = 0
) -> Episode:
    eid = episode_id(task.env, task.split, task.task_id, episode_index)
    policy.reset(episode_seed(seed, eid))
    env.seed(episode_seed(seed, f"{eid}:env"))  # ALFWorld's handcoded expert: the same choices on a rerun
    reset = env.reset(task)
    obs, info = reset.observation, dict(reset.info)
    steps: list[StepRecord] = []
    success = False
    for t in range(max_steps):
        ctx = PolicyContext(task.env, reset.task, reset.observation, steps, obs, env.admissible_actions, info)
        raw, action = policy.act(ctx)
        if action is None:  # the one rule for an unparsable output: not shown to the env, answered with a reminder
            reminder = format_error_message(task.env)
            steps.append(
                StepRecord(
                    t=t,
                    observation=obs,
                    raw_output=raw,
                    action=None,
                    next_observation=reminder,
                    reward=0.0,
                    done=False,
                    valid=False,
                    state_kind=FORMAT_ERROR_KIND,
                )
            )
            obs = reminder
            continue
        result = env.step(action)
        step_info = {k: v for k, v in result.info.items() if k not in _BULKY_INFO}
        steps.append(
            StepRecord(
                t=t,
                observation=obs,
                raw_output=raw,
                action=action,
                next_observation=result.observation,
                reward=float(result.reward),
                done=bool(result.done),
                valid=bool(result.valid),
                state_kind=str(result.info.get("state_kind", "observation")),
                info=step_info,
            )
        )
        obs, info = result.observation, dict(result.info)
        success = bool(result.success)
        if result.done:
            break
    return Episode(
        episode_id=eid,
        env=task.env,
        split=task.split,
        task_id=task.task_id,
        episode_index=episode_index,
        policy=policy.metadata(),
        task=reset.task,
        initial_observation=reset.observation,
        steps=steps,
        success=success,
        info={k: v for k, v in reset.info.items() if k not in _BULKY_INFO} | {"max_steps": max_steps},
    )


# Per-step env info that is large and recomputable (tool schemas, the domain policy); kept out of the JSONL.
_BULKY_INFO = frozenset({"tools", "policy", "admissible_commands", "gold_actions"})


def run_episode_job(job: dict[str, Any], cache: dict[str, Any]) -> dict[str, Any]:
    """Pool job: {"task", "episode_index", "max_steps", "policy", "env_kwargs", "seed"} -> episode dict.

    `cache` lives as long as the worker: envs and policies are built once per worker and reused.
    """
    task = TaskSpec.from_dict(job["task"])
    env_key = f"env:{task.env}:{sorted(job.get('env_kwargs', {}).items())}"
    if env_key not in cache:
        cache[env_key] = make_env(task.env, **job.get("env_kwargs", {}))
    pol_key = f"policy:{sorted(job['policy'].items())}"
    if pol_key not in cache:
        cache[pol_key] = make_policy(job["policy"])
    ep = run_episode(cache[env_key], cache[pol_key], task, job["episode_index"], job["max_steps"], job.get("seed", 0))
    return ep.to_dict()
