"""Collect episodes from ALFWorld or tau2-bench with a policy; one JSON line per episode.

Examples:
    # ALFWorld: the handcoded expert with 30% random admissible actions
    python -m data_prep.collect_trajectories --env alfworld --data-root ../shared/alfworld --split valid_seen \
        --policy expert --epsilon 0.3 --episodes-per-task 1 --max-tasks 20 --out /tmp/alf.jsonl
    # tau2 retail: gold tool calls with perturbations (offline, no LLM needed)
    python -m data_prep.collect_trajectories --env tau2 --domain retail --split test --policy gold \
        --epsilon 0.3 --max-tasks 10 --out /tmp/tau2.jsonl
    # the model being trained, served by vLLM (RWML step 1: temperature 1.0, 3 episodes per game)
    python -m data_prep.collect_trajectories --env alfworld --split train --policy openai \
        --base-url http://127.0.0.1:8000/v1 --model Qwen/Qwen3-8B --episodes-per-task 3 --out alf_train.jsonl

Rerunning the same command resumes: finished episodes are skipped, a torn last line is repaired. The settings
that change episodes (policy and its settings, max steps, seed, user simulator) are recorded beside the file in
OUT.settings.json; a rerun with other settings is refused (more --max-tasks or --episodes-per-task is fine).
Errors are one line, `error: <what>, <where>, <what to do>`, exit status 2 (`--debug` for the traceback).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from tqdm import tqdm

from data_prep.cli_errors import ArgumentParser, UsageError, debug_requested, print_error, run_cli
from data_prep.episode_spec import EpisodeSpec, PolicySettings, episode_spec
from data_prep.episode_store import EpisodeFileError, EpisodeStore
from data_prep.history_windows import HISTORY_WINDOW
from data_prep.policies import EXPERT_SOURCES, POLICY_NAMES, PolicyError, make_policy
from envs.base import EnvError
from envs.episode import episode_id
from envs.ray_workers import EnvWorkerPool, PoolError
from envs.registry import ENV_NAMES, list_tasks, spread_tasks
from envs.user_sim_args import add_user_sim_args, user_sim_flags

DEFAULT_MAX_STEPS = {"alfworld": 30, "tau2": 60}
# What a collection can fail on and explain in one line (anything else is reported as unexpected by run_cli).
KNOWN_ERRORS = (UsageError, EnvError, PolicyError, EpisodeFileError, PoolError)
SECRET_SETTINGS = ("api_key", "base_url")  # not recorded: a key is secret, and the same model may move port


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer >= `low` (argparse names the flag in its error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    return parse


def float_between(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number in [low, high]."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number in [{low}, {high}], got {text!r}") from None
        if not low <= value <= high:  # NaN fails this too
            raise argparse.ArgumentTypeError(f"must be in [{low}, {high}], got {text}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", choices=ENV_NAMES, required=True)
    p.add_argument(
        "--data-root",
        default=None,
        help="ALFWorld: folder holding json_2.1.1/ (default: $ALFWORLD_DATA, else the bundled games)",
    )
    p.add_argument("--domain", default=None, help="tau2: airline, retail or telecom")
    p.add_argument("--split", required=True, help="ALFWorld: train/valid_seen/valid_unseen/...; tau2: train/test/all")
    p.add_argument("--policy", choices=POLICY_NAMES, required=True)
    p.add_argument(
        "--epsilon", type=float_between(0.0, 1.0), default=0.0, help="expert/gold: probability of a perturbed action"
    )
    p.add_argument(
        "--invalid",
        type=float_between(0.0, 1.0),
        default=0.0,
        help='expert: probability of a command the game does not accept then ("Nothing happens.")',
    )
    p.add_argument(
        "--expert-source",
        choices=EXPERT_SOURCES,
        default="walkthrough",
        help="expert: the game's walkthrough, then the handcoded expert (default); or the handcoded expert only",
    )
    p.add_argument("--episodes-per-task", type=int_at_least(1), default=1)
    p.add_argument(
        "--max-tasks",
        type=int_at_least(1),
        default=None,
        help="N tasks of the split, spread over task types (seeded by --seed)",
    )
    p.add_argument(
        "--max-steps", type=int_at_least(1), default=None, help="default (flag left out): 30 ALFWorld, 60 tau2"
    )
    p.add_argument(
        "--temperature", type=float_between(0.0, 100.0), default=1.0, help="openai policy sampling temperature"
    )
    p.add_argument("--max-tokens", type=int_at_least(1), default=1024, help="openai policy: max tokens per turn")
    p.add_argument("--base-url", default=None, help="openai policy: e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--model", default=None, help="openai policy: served model name")
    p.add_argument("--api-key", default="EMPTY")
    p.add_argument(
        "--history-window",
        type=int_at_least(0),
        default=None,
        help="openai policy: past steps in the prompt (default: as stage 2 and evaluation, "
        f"ALFWorld {HISTORY_WINDOW['alfworld']}, tau2 {HISTORY_WINDOW['tau2']})",
    )
    p.add_argument(
        "--tau2-tools-in-prompt",
        action="store_true",
        help="openai policy, tau2: describe the tools in the system prompt instead of the API's `tools` "
        "(servers without a tool parser; evaluation has the same flag)",
    )
    add_user_sim_args(p)
    p.add_argument("--workers", type=int_at_least(0), default=2, help="Ray env workers; 0 runs in this process")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output JSONL (appended to; rerun to resume)")
    return p


def policy_settings(args: argparse.Namespace) -> PolicySettings:
    """The policy flags, typed, as `data_prep.episode_spec` takes them (evaluation builds the same from its own)."""
    return PolicySettings(
        name=args.policy,
        epsilon=args.epsilon,
        invalid=args.invalid,
        expert_source=args.expert_source,
        base_url=args.base_url,
        model=args.model,
        api_key=args.api_key,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        tools_in_prompt=args.tau2_tools_in_prompt,
        history_windows={} if args.history_window is None else {args.env: args.history_window},
    )


def collection_spec(args: argparse.Namespace) -> EpisodeSpec:
    """The policy spec and env keywords every episode of this collection is played with."""
    return episode_spec(args.env, policy_settings(args), user_sim_flags(args))


def summarize(episodes: list[dict[str, Any]]) -> str:
    if not episodes:
        return "no episodes"
    n = len(episodes)
    steps = sum(e["num_steps"] for e in episodes)
    invalid = sum(e["num_invalid_actions"] for e in episodes)
    wins = sum(bool(e["success"]) for e in episodes)
    lines = [
        f"episodes          {n}",
        f"success rate      {wins / n:.1%} ({wins}/{n})",
        f"steps             {steps} (mean {steps / n:.1f})",
        f"invalid actions   {invalid} ({invalid / max(steps, 1):.1%} of steps)",
    ]
    by_type: dict[str, list[bool]] = defaultdict(list)
    for e in episodes:
        by_type[e.get("info", {}).get("task_type") or e["env"]].append(bool(e["success"]))
    if len(by_type) > 1:
        lines.append("by task type:")
        for k in sorted(by_type):
            v = by_type[k]
            lines.append(f"  {k:40s} {sum(v)}/{len(v)}")
    return "\n".join(lines)


def run_settings(args: argparse.Namespace, spec: EpisodeSpec, max_steps: int) -> dict[str, Any]:
    """The settings that change the episodes, as recorded in OUT.settings.json (flat, so a refusal names each)."""
    policy = {("policy" if k == "name" else k): v for k, v in spec.policy.items() if k not in SECRET_SETTINGS}
    if "source" in policy:
        policy["expert_source"] = policy.pop("source")
    env_kw = {k: v for k, v in spec.env_kwargs.items() if "api_key" not in k}
    return {"env": args.env, **policy, "max_steps": max_steps, "seed": args.seed, "env_kwargs": env_kw}


def collection_jobs(args: argparse.Namespace, tasks: list[Any], spec: EpisodeSpec, max_steps: int) -> list[dict]:
    """One pool job (`data_prep.play_episode.run_episode_job`) per (task, episode)."""
    return [
        {
            "episode_id": episode_id(t.env, t.split, t.task_id, i),
            "task": t.to_dict(),
            "episode_index": i,
            "max_steps": max_steps,
            "policy": spec.policy,
            "env_kwargs": spec.env_kwargs,
            "seed": args.seed,
        }
        for t in tasks
        for i in range(args.episodes_per_task)
    ]


def main(argv: list[str] | None = None) -> int:
    """Collect the episodes the flags ask for into --out; 0 on success, 2 on an error explained in one line."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    max_steps = DEFAULT_MAX_STEPS[args.env] if args.max_steps is None else args.max_steps
    try:
        spec = collection_spec(args)
        tasks = list_tasks(args.env, args.split, data_root=args.data_root, domain=args.domain)
        tasks = spread_tasks(tasks, args.max_tasks, seed=args.seed)
        policy = make_policy(spec.policy)  # validates the spec, and the endpoint before any worker starts
        if hasattr(policy, "check_reachable"):
            policy.check_reachable()
        with EpisodeStore(args.out) as store:
            store.check_settings(run_settings(args, spec, max_steps))
            return _collect(args, collection_jobs(args, tasks, spec, max_steps), store)
    except KNOWN_ERRORS as err:
        print_error(err, debug=debug_requested())
        return 2


def _collect(args: argparse.Namespace, jobs: list[dict[str, Any]], store: EpisodeStore) -> int:
    todo = [j for j in jobs if j["episode_id"] not in store.done]
    print(f"{len(jobs)} episodes planned, {len(jobs) - len(todo)} already in {args.out}, {len(todo)} to run")
    finished: list[dict[str, Any]] = []
    if todo:
        with EnvWorkerPool("data_prep.play_episode:run_episode_job", num_workers=min(args.workers, len(todo))) as pool:
            with tqdm(total=len(todo), desc=f"{args.env} episodes", unit="ep") as bar:  # closed before an error line
                for _job, episode in pool.run(todo):
                    store.append(episode)
                    finished.append(episode)
                    bar.update(1)
                    bar.set_postfix(success=f"{sum(e['success'] for e in finished) / len(finished):.0%}")
    print(f"this run: {len(finished)} new episodes -> {args.out}")
    print(summarize(finished) if finished else "nothing new to collect")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main, known=KNOWN_ERRORS))
