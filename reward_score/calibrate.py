"""Pick the binary reward's tau for an embedder from real ALFWorld transitions.

The paper's tau (0.8) was set for Qwen3-Embedding-8B; another embedder puts similarities on another scale.
For every real transition this scores, against the real next state:
- positives: the real next state itself, and a meaning-preserving rewrite of it (items listed in another
  order, "a"/"an", the status line on the same line) -- a tau must accept these;
- negatives: the observation another admissible action gives in the same state, and the previous
  observation copied (with the real status line) -- a tau must reject these.
It prints balanced accuracy per tau, writes a PNG curve and a JSON summary, and recommends the middle of
the tau range with the best balanced accuracy.

    python -m reward_score.calibrate --data-root ../shared/alfworld --split valid_train --games 40 --out calib/
    python -m reward_score.calibrate --episodes episodes.jsonl --data-root ../shared/alfworld --out calib/

Tests use the valid_seen games; calibrate on valid_train (the default) so the documented tau is not fitted
to the data the tests check.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from data_prep.atomic_file import atomic_path, write_atomic
from data_prep.wm_episodes import env_transitions
from envs.base import EnvError
from envs.episode import Episode
from envs.registry import list_tasks, make_env
from reward_score.alfworld_pairs import BranchPair, collect_pairs, replay
from reward_score.answer_format import STATUS_DONE, STATUS_NOT_DONE, status_of, with_status
from reward_score.scoring import Scorer
from reward_score.settings import RewardSettings

POSITIVE_KINDS = ("exact", "rewrite")
NEGATIVE_KINDS = ("other_action", "previous_copy")
# Coarse where embedders rarely need it, fine near 1 where small models put their threshold.
TAU_GRID = np.round(np.concatenate([np.arange(0.50, 0.90, 0.005), np.arange(0.90, 1.0, 0.001)]), 3)

_LIST_RE = re.compile(r"(you see )(.+?)(\.(?:\s|$))")
_A_VOWEL_RE = re.compile(r"\ba ([aeiou])")


def rewrite(state: str) -> str:
    """A meaning-preserving rewrite of an ALFWorld state, as a world model might phrase it."""

    def reorder(m: re.Match[str]) -> str:
        items = [s.strip() for s in re.split(r",\s*(?:and\s+)?|\s+and\s+", m.group(2)) if s.strip()]
        if len(items) < 2:
            return m.group(0)
        items = items[::-1]
        return f"{m.group(1)}{', '.join(items[:-1])} and {items[-1]}{m.group(3)}"

    out = _LIST_RE.sub(reorder, state)
    out = _A_VOWEL_RE.sub(r"an \1", out)
    for line in (STATUS_DONE, STATUS_NOT_DONE):
        out = out.replace(f"\n{line}", f" {line}")
    return out


@dataclass(frozen=True)
class Example:
    truth: str
    candidate: str
    kind: str  # one of POSITIVE_KINDS / NEGATIVE_KINDS
    game: str


def examples_from_pairs(pairs: Iterable[BranchPair]) -> list[Example]:
    out: list[Example] = []
    for p in pairs:
        real = p.next_state
        candidates = {
            "exact": real,
            "rewrite": rewrite(real),
            "other_action": p.other_next_state,
            "previous_copy": with_status(p.observation, bool(status_of(real))),
        }
        for kind, cand in candidates.items():
            # A rewrite identical to the real state adds nothing; a negative identical to it is no negative.
            if kind != "exact" and cand == real:
                continue
            out.append(Example(real, cand, kind, p.game))
    return out


def pairs_from_episodes(
    path: str | Path, data_root: str | Path, *, branches: int = 3, seed: int = 0, max_episodes: int | None = None
) -> list[BranchPair]:
    """Branch pairs from collected ALFWorld episodes (envs/episode.py JSONL): replay, then act differently.

    Only environment transitions are replayed and branched: format-error steps (no action) are dropped first.
    """
    rng = random.Random(seed)
    episodes: list[Episode] = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                ep = Episode.from_dict(env_transitions(json.loads(line)))  # format-error steps never reached the env
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise ValueError(f"{path}:{lineno}: not an Episode line: {e}") from e
            if ep.env == "alfworld" and ep.steps:
                episodes.append(ep)
    if max_episodes:
        episodes = episodes[:max_episodes]
    if not episodes:
        raise ValueError(f"{path}: no ALFWorld episodes with steps")
    specs = {
        (t.split, t.task_id): t
        for split in sorted({ep.split for ep in episodes})
        for t in list_tasks("alfworld", split, data_root=data_root)
    }
    env = make_env("alfworld")
    pairs: list[BranchPair] = []
    try:
        for ep in tqdm(episodes, desc="replaying episodes"):
            task = specs.get((ep.split, ep.task_id))
            if task is None:
                raise EnvError(f"{path}: episode {ep.episode_id}: game {ep.task_id!r} not under {data_root}/{ep.split}")
            last = len(ep.steps) - 1
            for t in sorted(rng.sample(range(len(ep.steps)), min(branches, len(ep.steps)))):
                recorded = [(s.action, s.next_observation) for s in ep.steps[:t]]
                replay(env, task, recorded, where=f"{path}: episode {ep.episode_id}")
                step = ep.steps[t]
                others = [a for a in (env.admissible_actions or []) if a != step.action]
                if not others:
                    continue
                other = rng.choice(others)
                alt = env.step(other)
                pairs.append(
                    BranchPair(
                        game=ep.task_id,
                        t=t,
                        task=ep.task,
                        observation=step.observation,
                        action=step.action,
                        next_state=with_status(step.next_observation, ep.success and t == last),
                        other_action=other,
                        other_next_state=with_status(alt.observation, alt.success),
                    )
                )
    finally:
        env.close()
    return pairs


def cosines(scorer: Scorer, examples: list[Example]) -> np.ndarray:
    """Cosine of each candidate to its real state, embedded as the reward embeds them."""
    s = scorer.settings
    texts = [t for ex in examples for t in (s.query_text(ex.truth), ex.candidate)]
    rows = scorer.embed_texts(texts)
    return np.einsum("ij,ij->i", rows[0::2], rows[1::2])


def separation(kinds: list[str], cos: np.ndarray, grid: np.ndarray = TAU_GRID) -> dict[str, Any]:
    """Per tau: share of each kind scored 1 (positives) or 0 (negatives), and balanced accuracy."""
    kinds_arr = np.array(kinds)
    pos = np.isin(kinds_arr, POSITIVE_KINDS)
    table = []
    for tau in grid:
        passed = cos >= tau
        row: dict[str, float] = {"tau": float(tau)}
        for k in (*POSITIVE_KINDS, *NEGATIVE_KINDS):
            sel = kinds_arr == k
            if sel.any():
                rate = passed[sel].mean() if k in POSITIVE_KINDS else (~passed[sel]).mean()
                row[k] = float(rate)
        tpr = float(passed[pos].mean()) if pos.any() else float("nan")
        tnr = float((~passed[~pos]).mean()) if (~pos).any() else float("nan")
        row["balanced_accuracy"] = (tpr + tnr) / 2
        table.append(row)
    bas = np.array([r["balanced_accuracy"] for r in table])
    best = np.flatnonzero(bas >= bas.max() - 1e-12)
    # The middle of the best range leaves equal slack to both sides.
    recommended = float(np.round((grid[best[0]] + grid[best[-1]]) / 2, 3))
    stats = {
        k: {
            "n": int((kinds_arr == k).sum()),
            "mean": float(cos[kinds_arr == k].mean()),
            "min": float(cos[kinds_arr == k].min()),
            "max": float(cos[kinds_arr == k].max()),
        }
        for k in (*POSITIVE_KINDS, *NEGATIVE_KINDS)
        if (kinds_arr == k).any()
    }
    return {
        "table": table,
        "best_balanced_accuracy": float(bas.max()),
        "best_tau_range": [float(grid[best[0]]), float(grid[best[-1]])],
        "recommended_tau": recommended,
        "cosine_stats": stats,
    }


def balanced_accuracy_at(kinds: list[str], cos: np.ndarray, tau: float) -> float:
    return separation(kinds, cos, np.array([tau]))["table"][0]["balanced_accuracy"]


def plot(result: dict[str, Any], kinds: list[str], cos: np.ndarray, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    taus = [r["tau"] for r in result["table"]]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    ax1.plot(taus, [r["balanced_accuracy"] for r in result["table"]], "k-", lw=2.5, label="balanced accuracy")
    for k in (*POSITIVE_KINDS, *NEGATIVE_KINDS):
        if k in result["table"][0]:
            verb = "scored 1" if k in POSITIVE_KINDS else "scored 0"
            ax1.plot(taus, [r[k] for r in result["table"]], "--" if k in NEGATIVE_KINDS else ":", label=f"{k} {verb}")
    ax1.axvline(result["recommended_tau"], color="r", lw=1, label=f"recommended tau {result['recommended_tau']}")
    ax1.set(xlabel="tau", ylabel="share", ylim=(0, 1.02), title="binary reward vs tau")
    ax1.legend(fontsize=8, loc="lower left")
    kinds_arr = np.array(kinds)
    bins = np.linspace(min(0.0, float(cos.min())), 1.0, 60)
    for k in (*POSITIVE_KINDS, *NEGATIVE_KINDS):
        sel = kinds_arr == k
        if sel.any():
            ax2.hist(cos[sel], bins=bins, alpha=0.5, label=f"{k} (n={int(sel.sum())})")
    ax2.axvline(result["recommended_tau"], color="r", lw=1)
    ax2.set(xlabel="cosine to the real next state", ylabel="count", title="cosine by candidate kind")
    ax2.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def calibrate(pairs: list[BranchPair], settings: RewardSettings, out_dir: str | Path | None = None) -> dict[str, Any]:
    """Separation of real vs other states for `settings`' embedder; writes PNG + JSON under out_dir."""
    examples = examples_from_pairs(pairs)
    if not examples:
        raise ValueError("no transition pairs to calibrate on")
    scorer = Scorer(settings)
    cos = cosines(scorer, examples)
    kinds = [ex.kind for ex in examples]
    result = separation(kinds, cos)
    result.update(
        model=settings.model,
        instruction=settings.instruction,
        pairs=len(pairs),
        games=len({p.game for p in pairs}),
        balanced_accuracy_at_paper_tau=balanced_accuracy_at(kinds, cos, 0.8),
        documented_tau=settings.tau_for("alfworld"),
        balanced_accuracy_at_documented_tau=balanced_accuracy_at(kinds, cos, settings.tau_for("alfworld")),
    )
    if out_dir is not None:
        out = Path(out_dir)
        title = f"{settings.model}: {result['pairs']} real ALFWorld transitions from {result['games']} games"
        plot(result, kinds, cos, title, out / "tau_separation.png")
        samples = "".join(
            json.dumps(
                {"kind": ex.kind, "cosine": float(c), "truth": ex.truth, "candidate": ex.candidate, "game": ex.game}
            )
            + "\n"
            for ex, c in zip(examples, cos, strict=True)
        )
        write_atomic(out / "calibration.json", json.dumps(result, indent=1))
        write_atomic(out / "samples.jsonl", samples)
    return result


def format_report(result: dict[str, Any]) -> str:
    lines = [f"model {result['model']}: {result['pairs']} pairs from {result['games']} games"]
    for k, s in result["cosine_stats"].items():
        lines.append(f"  {k:14s} n={s['n']:4d} cosine mean {s['mean']:.3f} min {s['min']:.3f} max {s['max']:.3f}")
    lines.append("   tau  " + "  ".join(f"{k:>13s}" for k in (*POSITIVE_KINDS, *NEGATIVE_KINDS)) + "  balanced_acc")
    for r in result["table"]:
        if round(r["tau"] * 1000) % 25 == 0 or r["tau"] == result["recommended_tau"]:
            cells = "  ".join(f"{r.get(k, float('nan')):13.3f}" for k in (*POSITIVE_KINDS, *NEGATIVE_KINDS))
            lines.append(f"  {r['tau']:.3f} {cells}  {r['balanced_accuracy']:.3f}")
    lo, hi = result["best_tau_range"]
    lines.append(
        f"best balanced accuracy {result['best_balanced_accuracy']:.3f} for tau in [{lo:.3f}, {hi:.3f}]; "
        f"at the paper's 0.8: {result['balanced_accuracy_at_paper_tau']:.3f}; at this embedder's documented "
        f"{result['documented_tau']}: {result['balanced_accuracy_at_documented_tau']:.3f}"
    )
    lines.append(f"recommended tau: {result['recommended_tau']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", default=os.environ.get("ALFWORLD_DATA", "../shared/alfworld"))
    ap.add_argument("--split", default="valid_train", help="games to branch (not the split the tests use)")
    ap.add_argument("--episodes", help="collected episodes JSONL (envs/episode.py); replayed to branch")
    ap.add_argument("--games", type=int, default=40)
    ap.add_argument("--branches", type=int, default=3, help="other-action branches per game or episode")
    ap.add_argument("--max-steps", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default=RewardSettings.model)
    ap.add_argument("--base-url", help="OpenAI-compatible embeddings endpoint instead of a local model")
    ap.add_argument("--instruction", help="query instruction for asymmetric embedders")
    ap.add_argument("--pairs-cache", help="JSONL of pairs: read if present, else written after branching")
    ap.add_argument("--out", default="calibration_out")
    args = ap.parse_args(argv)

    cache = Path(args.pairs_cache) if args.pairs_cache else None
    if cache and cache.is_file():
        pairs = [BranchPair(**json.loads(line)) for line in cache.read_text().splitlines() if line.strip()]
    elif args.episodes:
        pairs = pairs_from_episodes(args.episodes, args.data_root, branches=args.branches, seed=args.seed)
    else:
        pairs = collect_pairs(
            args.data_root, args.split, games=args.games, branches=args.branches, max_steps=args.max_steps,
            seed=args.seed,
        )  # fmt: skip
    if cache and not cache.is_file():
        write_atomic(cache, "".join(json.dumps(p.to_dict()) + "\n" for p in pairs))
    settings = RewardSettings(model=args.model, base_url=args.base_url, instruction=args.instruction)
    result = calibrate(pairs, settings, args.out)
    print(format_report(result))
    print(f"wrote tau_separation.png, calibration.json and samples.jsonl under {args.out}")
    return result


if __name__ == "__main__":
    main()
