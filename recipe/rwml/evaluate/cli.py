"""Evaluate a policy on ALFWorld and tau2-bench (and a world model on held-out next-state data).

The policy is any HF checkpoint served on an OpenAI-compatible endpoint (vLLM, `--policy openai`), prompted as
the stage-2 agent loop prompts it (`data_prep.policies.OpenAIPolicy`, the client collection uses: reasoning then
the action; tau2 tools passed natively), or a scripted baseline: `expert` / `random` for ALFWorld, `gold` for tau2.

Suites: ALFWorld `valid_seen` (in-distribution) and `valid_unseen` (out-of-distribution); tau2 `retail`,
`telecom`, `airline` on their test split. Each task is played `--runs` times (default 3, the paper's mean of 3
runs) for at most `--max-steps` steps (30). Reported: success rate (mean +- std over runs) per suite, per
ALFWorld task type, the invalid-action rate, and -- with `--wm-parquet` -- the model's mean next-state reward
as a world model on a held-out world-model parquet.

Examples:
    # scripted baselines, no model needed
    python scripts/evaluate.py --policy expert --data-root ../shared/alfworld --alfworld-splits valid_seen \
        --out-dir eval/expert
    python scripts/evaluate.py --policy random --data-root ../shared/alfworld --alfworld-splits valid_seen \
        --out-dir eval/random
    # a checkpoint served by vLLM (tau2 tools need --enable-auto-tool-choice --tool-call-parser hermes)
    python scripts/evaluate.py --policy openai --base-url http://127.0.0.1:8000/v1 --model rwml-policy \
        --user-model hosted_vllm/Qwen3-8B --user-base-url http://127.0.0.1:8001/v1 \
        --wm-parquet data/wm/alfworld_val.parquet --out-dir eval/rwml_policy

Outputs in --out-dir: results.md (tables), episodes.jsonl (every episode, one JSON per line), summary.json,
success.png (bar chart), wm_predictions.jsonl. Rerunning the same command resumes: finished episodes and
predictions are kept, only missing ones run.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from data_prep.atomic_file import write_atomic
from data_prep.cli_errors import ArgumentParser, UsageError, run_cli
from data_prep.episode_spec import PolicySettings, policy_spec
from data_prep.episode_store import EpisodeFileError, EpisodeStore
from data_prep.history_windows import HISTORY_WINDOW
from data_prep.policies import EXPERT_SOURCES, PolicyError, make_policy
from envs.base import EnvError
from envs.ray_workers import PoolError
from envs.user_sim_args import add_user_sim_args, user_sim_flags
from recipe.rwml.evaluate.episodes import (
    ALFWORLD_SPLITS,
    TAU2_DOMAINS,
    EpisodeSettings,
    load_episodes,
    make_jobs,
    plan_tasks,
    run_episodes,
)
from recipe.rwml.evaluate.errors import EvalError
from recipe.rwml.evaluate.report import bar_chart, markdown, summarize
from recipe.rwml.evaluate.world_model import WorldModelSettings, evaluate_world_model
from reward_score.embedders import EmbeddingBackendError

POLICIES = ("openai", "expert", "random", "gold")
# Settings that change results: a resumed run must use the same ones.
MANIFEST_KEYS = (
    "policy",
    "expert_source",
    "model",
    "base_url",
    "temperature",
    "max_tokens",
    "max_steps",
    "history",
    "seed",
    "user",
)


def manifest(args: argparse.Namespace) -> dict[str, Any]:
    """The settings that change results, saved as run.json beside the episodes."""
    return {
        "policy": args.policy,
        "expert_source": args.expert_source if args.policy == "expert" else None,
        "model": args.model if args.policy == "openai" else None,
        "base_url": args.base_url if args.policy == "openai" else None,
        "temperature": args.temperature if args.policy == "openai" else None,
        "max_tokens": args.max_tokens if args.policy == "openai" else None,
        "max_steps": args.max_steps,
        "history": {"alfworld": args.alfworld_history, "tau2": args.tau2_history},
        "seed": args.seed,
        "user": {"model": args.user_model, "temperature": args.user_temperature, "max_tokens": args.user_max_tokens},
    }


def check_manifest(out_dir: Path, current: dict[str, Any]) -> None:
    """Refuse to mix episodes of different settings in one output folder."""
    path = out_dir / "run.json"
    if path.exists():
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as err:
            raise EvalError(f"{path} is not the JSON of a run ({err}); delete it, or use another --out-dir") from err
        diff = sorted(k for k in MANIFEST_KEYS if previous.get(k) != current.get(k))
        if diff:
            raise EvalError(
                f"{out_dir} holds an evaluation with other settings ({', '.join(diff)} differ: "
                f"{ {k: previous.get(k) for k in diff} } vs { {k: current.get(k) for k in diff} }); "
                "use another --out-dir"
            )
    else:
        write_atomic(path, json.dumps(current, indent=2) + "\n")


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The command's flags; `prog` names it in the usage line (default: the script's file name)."""
    p = ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--policy", choices=POLICIES, required=True, help="openai: a served checkpoint; else scripted")
    p.add_argument("--out-dir", required=True, help="where results go; rerun with the same folder to resume")
    p.add_argument(
        "--expert-source",
        choices=EXPERT_SOURCES,
        default="walkthrough",
        help="--policy expert: the game's walkthrough, then the handcoded expert (default); or handcoded only",
    )
    g = p.add_argument_group("model endpoint (--policy openai, and --wm-parquet)")
    g.add_argument("--base-url", default=None, help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    g.add_argument("--model", default=None, help="served model name")
    g.add_argument("--api-key", default="EMPTY")
    g.add_argument("--temperature", type=float, default=1.0, help="policy sampling temperature (default 1.0)")
    g.add_argument("--max-tokens", type=int, default=1024, help="policy: max tokens per turn")
    g.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    g.add_argument(
        "--tau2-tools-in-prompt",
        action="store_true",
        help="tau2: describe tools in the system prompt instead of the API's `tools` (servers without a tool parser)",
    )
    g = p.add_argument_group("suites")
    g.add_argument(
        "--envs",
        nargs="+",
        choices=("alfworld", "tau2"),
        default=None,
        help="default: alfworld for expert/random, tau2 for gold, both for openai",
    )
    g.add_argument(
        "--alfworld-splits",
        nargs="+",
        default=list(ALFWORLD_SPLITS),
        help="valid_seen = in-distribution, valid_unseen = out-of-distribution; missing ones are skipped",
    )
    g.add_argument("--data-root", default=None, help="ALFWorld folder holding json_2.1.1/ (default: $ALFWORLD_DATA)")
    g.add_argument("--tau2-domains", nargs="+", default=list(TAU2_DOMAINS))
    g.add_argument("--tau2-split", default="test")
    g.add_argument(
        "--max-tasks", type=int, default=None, help="N tasks of each suite, spread over task types (seeded by --seed)"
    )
    g = p.add_argument_group("episodes")
    g.add_argument("--runs", type=int, default=3, help="episodes per task (the paper reports the mean of 3)")
    g.add_argument("--max-steps", type=int, default=30)
    g.add_argument("--alfworld-history", type=int, default=HISTORY_WINDOW["alfworld"], help="steps in the prompt")
    g.add_argument("--tau2-history", type=int, default=HISTORY_WINDOW["tau2"], help="steps in the prompt")
    g.add_argument("--workers", type=int, default=2, help="Ray env workers; 0 runs in this process")
    g.add_argument("--seed", type=int, default=0)
    g = p.add_argument_group("tau2 user simulator (litellm; any OpenAI-compatible server)")
    add_user_sim_args(g)
    g = p.add_argument_group("world model (next-state reward on a held-out world-model parquet)")
    g.add_argument("--wm-parquet", default=None, help="world-model parquet (prompt, reward_model.ground_truth)")
    g.add_argument("--wm-max-samples", type=int, default=None)
    g.add_argument("--wm-temperature", type=float, default=0.0)
    g.add_argument("--wm-max-tokens", type=int, default=512)
    g.add_argument("--wm-reward-kwargs", default=None, help="reward settings as JSON, e.g. '{\"tau\": 0.8}'")
    return p


def episode_settings(args: argparse.Namespace) -> EpisodeSettings:
    """The flags the episodes depend on, typed; the policy's as collection reads its own (`data_prep.episode_spec`)."""
    policy = PolicySettings(
        name=args.policy,
        expert_source=args.expert_source,
        base_url=args.base_url,
        model=args.model,
        api_key=args.api_key,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        tools_in_prompt=args.tau2_tools_in_prompt,
        history_windows={"alfworld": args.alfworld_history, "tau2": args.tau2_history},
    )
    return EpisodeSettings(
        policy=policy,
        user=user_sim_flags(args),
        envs=tuple(args.envs or ()),
        alfworld_splits=tuple(args.alfworld_splits),
        tau2_domains=tuple(args.tau2_domains),
        tau2_split=args.tau2_split,
        data_root=args.data_root,
        max_tasks=args.max_tasks,
        runs=args.runs,
        max_steps=args.max_steps,
        workers=args.workers,
        seed=args.seed,
    )


def world_model_settings(args: argparse.Namespace) -> WorldModelSettings:
    """The `--wm-*` flags and the endpoint, typed."""
    return WorldModelSettings(
        parquet=args.wm_parquet,
        base_url=args.base_url,
        model=args.model,
        api_key=args.api_key,
        timeout=args.timeout,
        max_samples=args.wm_max_samples,
        temperature=args.wm_temperature,
        max_tokens=args.wm_max_tokens,
        reward_kwargs=args.wm_reward_kwargs,
    )


# What an evaluation can fail on and explain in one line (anything else is reported as unexpected by run_cli).
KNOWN_ERRORS = (UsageError, EvalError, EnvError, PolicyError, EpisodeFileError, PoolError, EmbeddingBackendError)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Run the evaluation the flags ask for; 0 on success, 2 on an error explained in one line on stderr.

    Every failure is `error: <what>, <where>, <what to do>` (the traceback with `--debug` or RWML_DEBUG=1).
    """
    return run_cli(lambda args: evaluate(args, prog), argv, known=KNOWN_ERRORS)


def evaluate(argv: list[str] | None = None, prog: str | None = None) -> int:
    """The evaluation itself; raises the errors `main` turns into one line."""
    args = build_parser(prog).parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for flag, value, low in (
        ("--runs", args.runs, 1),
        ("--max-steps", args.max_steps, 1),
        ("--workers", args.workers, 0),
    ):
        if value < low:
            raise UsageError(f"{flag} must be >= {low}, got {value}", flag, f"pass {flag} {max(low, 1)} or more")
    if args.max_tasks is not None and args.max_tasks < 1:
        raise UsageError(f"--max-tasks must be >= 1, got {args.max_tasks}", "--max-tasks", "leave it out for all tasks")
    if (args.policy == "openai" or args.wm_parquet) and not (args.base_url and args.model):
        raise UsageError(
            "--policy openai and --wm-parquet need a served model", "--base-url / --model", "pass both flags"
        )
    out_dir = Path(args.out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir} is a file", "--out-dir", "pass a folder (it is created if missing)")
    settings = episode_settings(args)
    planned = plan_tasks(settings)
    man = manifest(args)
    out_dir.mkdir(parents=True, exist_ok=True)
    check_manifest(out_dir, man)
    if args.policy == "openai":
        make_policy(policy_spec("alfworld", settings.policy)).check_reachable()
    jobs = make_jobs(settings, planned)
    with EpisodeStore(out_dir / "episodes.jsonl") as store:
        run_episodes(settings, jobs, store)
    summary = summarize(load_episodes(store.path, [j["episode_id"] for j in jobs]), planned)
    if args.wm_parquet:
        summary["world_model"] = evaluate_world_model(world_model_settings(args), out_dir)
    summary["settings"] = man
    table = markdown(summary, man)
    write_atomic(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_atomic(out_dir / "results.md", table)
    bar_chart(summary, man["policy"] if args.policy != "openai" else args.model, out_dir / "success.png")
    print(table)
    print(f"wrote {out_dir / 'results.md'}, {out_dir / 'summary.json'}, {out_dir / 'success.png'}, {store.path}")
    return 0
