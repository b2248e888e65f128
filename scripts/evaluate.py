"""Evaluate a policy on ALFWorld and tau2-bench (and a world model on held-out next-state data).

The policy is any HF checkpoint served on an OpenAI-compatible endpoint (vLLM, `--policy openai`), prompted as
the stage-2 agent loop prompts it (`recipe.rwml.policy_prompts`: reasoning then the action; tau2 tools passed
natively), or a scripted baseline: `expert` / `random` for ALFWorld, `gold` for tau2.

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
import math
import os
import sys
import warnings
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # `python scripts/evaluate.py` puts scripts/ first, not the repo
    sys.path.insert(0, str(REPO_ROOT))

from data_prep.atomic_file import atomic_path, write_atomic  # noqa: E402
from data_prep.episode_store import EpisodeStore, iter_episode_dicts  # noqa: E402
from data_prep.policies import EXPERT_SOURCES, OpenAIPolicy, PolicyContext, PolicyError, make_policy  # noqa: E402
from data_prep.rollout import run_episode  # noqa: E402
from envs.base import EnvError, TaskSpec  # noqa: E402
from envs.registry import list_tasks, make_env, spread_tasks  # noqa: E402
from recipe.rwml.policy_prompts import (  # noqa: E402
    NO_ACTION,
    build_policy_messages,
    parse_action,
    tau2_action_from_calls,
    tool_schemas,
)

logger = logging.getLogger("evaluate")

ALFWORLD_SPLITS = ("valid_seen", "valid_unseen")
TAU2_DOMAINS = ("retail", "telecom", "airline")
DEFAULT_HISTORY = {"alfworld": 2, "tau2": 5}
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


class EvalError(RuntimeError):
    """The evaluation cannot run as asked (no split found, output of another run, bad parquet, ...)."""


# ----------------------------------------------------------------------------------------------- policy


class ChatPolicy(OpenAIPolicy):
    """An endpoint prompted like the stage-2 agent loop; tau2 tools go through the API's native `tools`."""

    def __init__(self, *args: Any, native_tools: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.native_tools = native_tools
        self._tools: list[dict[str, Any]] = []

    def act(self, ctx: PolicyContext) -> tuple[str, str]:
        import openai

        if not ctx.history:
            self._tools = tool_schemas(ctx.info)  # the reset info carries the tools; later steps may not
        native = ctx.env == "tau2" and self.native_tools and bool(self._tools)
        messages = build_policy_messages(
            env=ctx.env,
            task=ctx.task,
            initial_observation=ctx.initial_observation,
            history=[(s.action, s.next_observation) for s in ctx.history],
            observation=ctx.observation,
            admissible=ctx.admissible,
            info={**ctx.info, "tools": self._tools} if self._tools else ctx.info,
            history_window=self.history_window,
            tools_in_prompt=not native,
        )
        extra: dict[str, Any] = {}
        if native:
            messages = [_openai_message(m) for m in messages]
            extra = {"tools": self._tools, "tool_choice": "auto"}
        try:
            resp = self.client.chat.completions.create(
                model=self.model,
                messages=messages,
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                **extra,
            )
        except openai.APIConnectionError as err:
            raise PolicyError(f"cannot reach the policy endpoint {self.base_url}: {err}") from err
        msg = resp.choices[0].message
        text = msg.content or ""
        if msg.tool_calls:
            calls = [(c.function.name, c.function.arguments) for c in msg.tool_calls]
            action, _ok = tau2_action_from_calls(calls)
            text = text + "".join(
                f"\n<tool_call>{json.dumps({'name': n, 'arguments': a})}</tool_call>" for n, a in calls
            )
        else:
            action, _ok = parse_action(text, ctx.env)
        return text, action if action is not None else NO_ACTION


def _openai_message(message: dict[str, Any]) -> dict[str, Any]:
    """Chat-template messages -> OpenAI API messages (tool-call arguments as JSON text)."""
    if not message.get("tool_calls"):
        return message
    calls = []
    for call in message["tool_calls"]:
        fn = dict(call["function"])
        if not isinstance(fn["arguments"], str):
            fn["arguments"] = json.dumps(fn["arguments"], ensure_ascii=False)
        calls.append({**call, "function": fn})
    return {**message, "tool_calls": calls}


def build_policy(spec: dict[str, Any]) -> Any:
    """Scripted policies come from data_prep.policies; `openai` is the agent-loop-style ChatPolicy."""
    if spec.get("name") != "openai":
        return make_policy(spec)
    kwargs = {k: v for k, v in spec.items() if k != "name"}
    if not kwargs.get("base_url") or not kwargs.get("model"):
        raise PolicyError("--policy openai needs --base-url and --model")
    return ChatPolicy(**kwargs)


def eval_episode_job(job: dict[str, Any], cache: dict[str, Any]) -> dict[str, Any]:
    """Pool job: play one (task, run); envs and policies are built once per worker."""
    task = TaskSpec.from_dict(job["task"])
    env_key = f"env:{task.env}:{json.dumps(job['env_kwargs'], sort_keys=True)}"
    if env_key not in cache:
        cache[env_key] = make_env(task.env, **job["env_kwargs"])
    pol_key = f"policy:{json.dumps(job['policy'], sort_keys=True)}"
    if pol_key not in cache:
        cache[pol_key] = build_policy(job["policy"])
    ep = run_episode(cache[env_key], cache[pol_key], task, job["run"], job["max_steps"], job["seed"]).to_dict()
    ep["episode_id"] = job["episode_id"]
    ep["suite"] = job["suite"]
    ep["run"] = job["run"]
    return ep


# ----------------------------------------------------------------------------------------------- planning


def suites_for(args: argparse.Namespace) -> list[tuple[str, str, str | None, str]]:
    """(suite name, env, tau2 domain, split) for every requested suite."""
    envs = args.envs or {"expert": ["alfworld"], "random": ["alfworld"], "gold": ["tau2"]}.get(
        args.policy, ["alfworld", "tau2"]
    )
    out: list[tuple[str, str, str | None, str]] = []
    if "alfworld" in envs:
        out += [(f"alfworld/{s}", "alfworld", None, s) for s in args.alfworld_splits]
    if "tau2" in envs:
        out += [(f"tau2/{d}", "tau2", d, args.tau2_split) for d in args.tau2_domains]
    return out


def plan_tasks(args: argparse.Namespace) -> dict[str, list[TaskSpec]]:
    """The tasks of each suite; a missing split is skipped with a warning unless no suite has tasks."""
    planned: dict[str, list[TaskSpec]] = {}
    problems: list[str] = []
    for suite, env, domain, split in suites_for(args):
        try:
            tasks = list_tasks(env, split, data_root=args.data_root, domain=domain)
        except EnvError as err:
            problems.append(f"{suite}: {err}")
            continue
        if not tasks:
            problems.append(f"{suite}: no tasks in split {split!r}")
            continue
        try:
            planned[suite] = spread_tasks(tasks, args.max_tasks, seed=args.seed)
        except EnvError as err:
            raise EvalError(str(err)) from err
    if not planned:
        raise EvalError("no requested suite has tasks:\n  " + "\n  ".join(problems))
    for p in problems:
        warnings.warn(f"skipping {p}", stacklevel=1)
        print(f"warning: skipping {p}", file=sys.stderr)
    return planned


def policy_spec(args: argparse.Namespace, env: str) -> dict[str, Any]:
    if args.policy == "expert":
        return {"name": "expert", "epsilon": 0.0, "source": args.expert_source}
    if args.policy == "gold":
        return {"name": "gold", "epsilon": 0.0}
    if args.policy == "random":
        return {"name": "random"}
    return {
        "name": "openai",
        "base_url": args.base_url,
        "model": args.model,
        "temperature": args.temperature,
        "max_tokens": args.max_tokens,
        "api_key": args.api_key,
        "history_window": args.alfworld_history if env == "alfworld" else args.tau2_history,
        "native_tools": not args.tau2_tools_in_prompt,
    }


def env_kwargs(args: argparse.Namespace, env: str) -> dict[str, Any]:
    if env == "alfworld":
        return {}  # the game files come with the tasks (TaskSpec.kwargs)
    kw: dict[str, Any] = {"user_temperature": args.user_temperature}
    if args.user_model:
        kw["user_model"] = args.user_model
    if args.user_base_url:
        kw["user_base_url"] = args.user_base_url
    if args.user_api_key:
        kw["user_api_key"] = args.user_api_key
    return kw


def make_jobs(args: argparse.Namespace, planned: dict[str, list[TaskSpec]]) -> list[dict[str, Any]]:
    jobs = []
    for suite, tasks in planned.items():
        for task in tasks:
            for run in range(args.runs):
                jobs.append(
                    {
                        "episode_id": f"{suite}/{task.task_id}/{run}",
                        "suite": suite,
                        "task": task.to_dict(),
                        "run": run,
                        "max_steps": args.max_steps,
                        "policy": policy_spec(args, task.env),
                        "env_kwargs": env_kwargs(args, task.env),
                        "seed": args.seed,
                    }
                )
    return jobs


def manifest(args: argparse.Namespace) -> dict[str, Any]:
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
        "user": {"model": args.user_model, "temperature": args.user_temperature},
    }


def check_manifest(out_dir: Path, current: dict[str, Any]) -> None:
    """Refuse to mix episodes of different settings in one output folder."""
    path = out_dir / "run.json"
    if path.exists():
        previous = json.loads(path.read_text())
        diff = sorted(k for k in MANIFEST_KEYS if previous.get(k) != current.get(k))
        if diff:
            raise EvalError(
                f"{out_dir} holds an evaluation with other settings ({', '.join(diff)} differ: "
                f"{ {k: previous.get(k) for k in diff} } vs { {k: current.get(k) for k in diff} }); "
                "use another --out-dir"
            )
    else:
        write_atomic(path, json.dumps(current, indent=2) + "\n")


# ----------------------------------------------------------------------------------------------- running


def run_episodes(args: argparse.Namespace, jobs: list[dict[str, Any]], store: EpisodeStore) -> None:
    from tqdm import tqdm

    from envs.pool import EnvWorkerPool

    todo = [j for j in jobs if j["episode_id"] not in store.done]
    print(f"{len(jobs)} episodes planned, {len(jobs) - len(todo)} already in {store.path}, {len(todo)} to run")
    if not todo:
        return
    pythonpath = os.pathsep.join(p for p in [str(REPO_ROOT), os.getcwd(), os.environ.get("PYTHONPATH")] if p)
    with EnvWorkerPool(
        "scripts.evaluate:eval_episode_job",
        num_workers=min(args.workers, len(todo)),
        worker_env={"PYTHONPATH": pythonpath},
    ) as pool:
        bar = tqdm(total=len(todo), desc="episodes", unit="ep")
        wins = 0
        for n, (_job, episode) in enumerate(pool.run(todo), start=1):
            store.append(episode)
            wins += bool(episode["success"])
            bar.update(1)
            bar.set_postfix(success=f"{wins / n:.0%}")
        bar.close()


def load_episodes(path: Path, wanted: Iterable[str]) -> list[dict[str, Any]]:
    wanted = set(wanted)
    return [d for _, d in iter_episode_dicts(path) if d["episode_id"] in wanted]


# ----------------------------------------------------------------------------------------------- world model


def evaluate_world_model(args: argparse.Namespace, out_dir: Path) -> dict[str, Any]:
    """Mean next-state reward of the endpoint's predictions on a world-model parquet (resumable)."""
    import pyarrow.parquet as pq
    from openai import OpenAI
    from tqdm import tqdm

    from reward_score import compute_score_batch

    path = Path(args.wm_parquet)
    if not path.is_file():
        raise EvalError(f"--wm-parquet {path}: no such file")
    table = pq.read_table(path)
    missing = {"data_source", "prompt", "reward_model"} - set(table.column_names)
    if missing:
        raise EvalError(f"{path}: missing column(s) {sorted(missing)}; expected a world-model parquet")
    rows = table.to_pylist()[: args.wm_max_samples] if args.wm_max_samples else table.to_pylist()
    for i, row in enumerate(rows):
        gt = (row.get("reward_model") or {}).get("ground_truth")
        if not isinstance(row.get("prompt"), list) or gt is None:
            raise EvalError(f"{path}: row {i}: needs a 'prompt' message list and reward_model.ground_truth")

    pred_path = out_dir / "wm_predictions.jsonl"
    done: dict[int, dict[str, Any]] = {}
    if pred_path.exists():
        for lineno, line in enumerate(pred_path.read_text().splitlines(), start=1):
            if line.strip():
                try:
                    rec = json.loads(line)
                    done[int(rec["row"])] = rec
                except (ValueError, KeyError) as err:
                    raise EvalError(f"{pred_path}:{lineno}: bad prediction record ({err})") from err
    client = OpenAI(base_url=args.base_url, api_key=args.api_key, timeout=args.timeout, max_retries=2)
    todo = [i for i in range(len(rows)) if i not in done]
    with open(pred_path, "a", encoding="utf-8") as f:
        for i in tqdm(todo, desc="world-model predictions", unit="row"):
            resp = client.chat.completions.create(
                model=args.model,
                messages=rows[i]["prompt"],
                temperature=args.wm_temperature,
                max_tokens=args.wm_max_tokens,
            )
            rec = {"row": i, "prediction": resp.choices[0].message.content or ""}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            f.flush()
            done[i] = rec
    reward_kwargs = json.loads(args.wm_reward_kwargs) if args.wm_reward_kwargs else {}
    scores = compute_score_batch(
        [r["data_source"] for r in rows],
        [done[i]["prediction"] for i in range(len(rows))],
        [r["reward_model"]["ground_truth"] for r in rows],
        [r.get("extra_info") for r in rows],
        **reward_kwargs,
    )
    by_source: dict[str, list[float]] = defaultdict(list)
    for row, s in zip(rows, scores, strict=True):
        by_source[str(row["data_source"])].append(float(s["score"]))
    values = [float(s["score"]) for s in scores]
    return {
        "parquet": str(path),
        "samples": len(values),
        "mean_reward": sum(values) / max(len(values), 1),
        "by_data_source": {k: sum(v) / len(v) for k, v in sorted(by_source.items())},
    }


# ----------------------------------------------------------------------------------------------- report


def _mean_std(values: list[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1) if len(values) > 1 else 0.0
    return mean, math.sqrt(var)


def summarize(episodes: list[dict[str, Any]], suites: Iterable[str]) -> dict[str, Any]:
    """Success (mean +- std over runs), invalid-action rate and steps per suite, and per ALFWorld task type."""
    by_suite: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in episodes:
        by_suite[e["suite"]].append(e)
    out: dict[str, Any] = {"suites": {}, "task_types": {}}
    for suite in suites:
        eps = by_suite.get(suite, [])
        if not eps:
            continue
        per_run: dict[int, list[bool]] = defaultdict(list)
        for e in eps:
            per_run[int(e["run"])].append(bool(e["success"]))
        run_rates = [sum(v) / len(v) for _, v in sorted(per_run.items())]
        mean, std = _mean_std(run_rates)
        steps = sum(e["num_steps"] for e in eps)
        invalid = sum(e["num_invalid_actions"] for e in eps)
        out["suites"][suite] = {
            "episodes": len(eps),
            "tasks": len({e["task_id"] for e in eps}),
            "runs": len(per_run),
            "success": mean,
            "success_std": std,
            "run_success": run_rates,
            "invalid_action_rate": invalid / max(steps, 1),
            "mean_steps": steps / len(eps),
        }
        if suite.startswith("alfworld/"):
            types: dict[str, list[bool]] = defaultdict(list)
            for e in eps:
                types[str((e.get("info") or {}).get("task_type") or "unknown")].append(bool(e["success"]))
            out["task_types"][suite] = {
                t: {"episodes": len(v), "success": sum(v) / len(v)} for t, v in sorted(types.items())
            }
    for env in ("alfworld", "tau2"):
        rates = [s["success"] for k, s in out["suites"].items() if k.startswith(env + "/")]
        if rates:
            out[f"{env}_avg"] = sum(rates) / len(rates)
    return out


def markdown(summary: dict[str, Any], man: dict[str, Any]) -> str:
    who = man["policy"] if man["policy"] != "openai" else f"openai:{man['model']}"
    lines = [
        f"# Evaluation: {who}",
        "",
        f"max steps {man['max_steps']}, history window ALFWorld {man['history']['alfworld']} / tau2 "
        f"{man['history']['tau2']}, seed {man['seed']}",
        "",
        "| suite | tasks | runs | success % (mean ± std over runs) | invalid actions % | mean steps |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for suite, s in summary["suites"].items():
        lines.append(
            f"| {suite} | {s['tasks']} | {s['runs']} | {100 * s['success']:.1f} ± {100 * s['success_std']:.1f} "
            f"| {100 * s['invalid_action_rate']:.1f} | {s['mean_steps']:.1f} |"
        )
    for env in ("alfworld", "tau2"):
        if f"{env}_avg" in summary:
            lines.append(f"| **{env} avg** | | | {100 * summary[f'{env}_avg']:.1f} | | |")
    for suite, types in summary["task_types"].items():
        lines += ["", f"## {suite} by task type", "", "| task type | episodes | success % |", "|---|---:|---:|"]
        lines += [f"| {t} | {v['episodes']} | {100 * v['success']:.1f} |" for t, v in types.items()]
    wm = summary.get("world_model")
    if wm:
        lines += [
            "",
            "## World model (next-state reward)",
            "",
            f"{wm['samples']} samples of `{wm['parquet']}`: mean reward **{wm['mean_reward']:.3f}**",
            "",
            "| data source | mean reward |",
            "|---|---:|",
        ]
        lines += [f"| {k} | {v:.3f} |" for k, v in wm["by_data_source"].items()]
    return "\n".join(lines) + "\n"


def bar_chart(summary: dict[str, Any], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suites = list(summary["suites"])
    type_rows = [
        (f"{s.split('/', 1)[1]}: {t}", v["success"]) for s, ts in summary["task_types"].items() for t, v in ts.items()
    ]
    ncols = 2 if type_rows else 1
    fig, axes = plt.subplots(1, ncols, figsize=(6 + 5 * (ncols - 1), 4.5), squeeze=False)
    ax = axes[0][0]
    means = [100 * summary["suites"][s]["success"] for s in suites]
    stds = [100 * summary["suites"][s]["success_std"] for s in suites]
    ax.bar(suites, means, yerr=stds, capsize=4, color="tab:blue")
    ax.set_ylim(0, 105)
    ax.set_ylabel("success %")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    for i, m in enumerate(means):
        ax.text(i, m + 2, f"{m:.1f}", ha="center", fontsize=8)
    if type_rows:
        ax2 = axes[0][1]
        ax2.barh([r[0] for r in type_rows], [100 * r[1] for r in type_rows], color="tab:green")
        ax2.set_xlim(0, 100)
        ax2.set_xlabel("success %")
        ax2.set_title("ALFWorld by task type")
        ax2.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)


# ----------------------------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    g.add_argument("--alfworld-history", type=int, default=DEFAULT_HISTORY["alfworld"], help="steps in the prompt")
    g.add_argument("--tau2-history", type=int, default=DEFAULT_HISTORY["tau2"], help="steps in the prompt")
    g.add_argument("--workers", type=int, default=2, help="Ray env workers; 0 runs in this process")
    g.add_argument("--seed", type=int, default=0)
    g = p.add_argument_group("tau2 user simulator (litellm; any OpenAI-compatible server)")
    g.add_argument("--user-model", default=None, help="e.g. hosted_vllm/Qwen3-8B or openai/gpt-4.1")
    g.add_argument("--user-base-url", default=None)
    g.add_argument("--user-api-key", default=None)
    g.add_argument("--user-temperature", type=float, default=0.0)
    g = p.add_argument_group("world model (next-state reward on a held-out world-model parquet)")
    g.add_argument("--wm-parquet", default=None, help="world-model parquet (prompt, reward_model.ground_truth)")
    g.add_argument("--wm-max-samples", type=int, default=None)
    g.add_argument("--wm-temperature", type=float, default=0.0)
    g.add_argument("--wm-max-tokens", type=int, default=512)
    g.add_argument("--wm-reward-kwargs", default=None, help="reward settings as JSON, e.g. '{\"tau\": 0.8}'")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.runs < 1 or args.max_steps < 1:
        print("error: --runs and --max-steps must be >= 1", file=sys.stderr)
        return 2
    if (args.policy == "openai" or args.wm_parquet) and not (args.base_url and args.model):
        print("error: --policy openai and --wm-parquet need --base-url and --model", file=sys.stderr)
        return 2
    out_dir = Path(args.out_dir)
    try:
        planned = plan_tasks(args)
        man = manifest(args)
        out_dir.mkdir(parents=True, exist_ok=True)
        check_manifest(out_dir, man)
        if args.policy == "openai":
            build_policy(policy_spec(args, "alfworld")).check_reachable()
        jobs = make_jobs(args, planned)
        store = EpisodeStore(out_dir / "episodes.jsonl")
        run_episodes(args, jobs, store)
        summary = summarize(load_episodes(store.path, [j["episode_id"] for j in jobs]), planned)
        if args.wm_parquet:
            summary["world_model"] = evaluate_world_model(args, out_dir)
    except (EvalError, EnvError, PolicyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    summary["settings"] = man
    table = markdown(summary, man)
    write_atomic(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_atomic(out_dir / "results.md", table)
    bar_chart(summary, man["policy"] if args.policy != "openai" else args.model, out_dir / "success.png")
    print(table)
    print(f"wrote {out_dir / 'results.md'}, {out_dir / 'summary.json'}, {out_dir / 'success.png'}, {store.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
