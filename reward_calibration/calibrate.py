"""Calibrate the ALFWorld reward on real transitions: which candidates each tau accepts, per kind of candidate.

For every real transition (`alfworld_pairs`: the expert, with random actions mixed in, plays a game; at a step
the game is replayed and another admissible action taken), candidates are compared with the real next state
(`alfworld_candidates`: positives a reward must score 1 -- the state, reordered, paraphrased -- and negatives it
must score 0 -- another action's outcome, an object swapped, a fact flipped, the previous observation copied).
For each tau of a grid it reports the share of each kind the reward gets right, in both ALFWorld modes:
`binary` (cosine >= tau) and `facts` (the world states agree, `alfworld_state`, and cosine >= tau). It writes a
PNG and a JSON, and recommends
- binary: the middle of the tau range with the best balanced accuracy (all positives vs all negatives,
  `separation` pooled by samples);
- facts: the highest tau (0.01 steps) that still accepts 99% of the positives whose facts agree -- the facts
  reject wrong facts, the cosine gate only drops text far from any real state.
With `--check-split` it then scores the other split's candidates with the chosen settings through
`compute_score_batch` (the reward as training calls it) and writes the per-kind table.

    python -m reward_calibration.calibrate --data-root ../shared/alfworld --split valid_train \\
        --out reward_calibration/results
    python -m reward_calibration.calibrate --episodes episodes.jsonl --data-root ../shared/alfworld --out calib/
    # the candidates of the last run, read back from --out: a new reader or tau on exactly the same candidates
    python -m reward_calibration.calibrate --reuse-samples --out reward_calibration/results

Calibrate on valid_train (the default) and check on valid_seen: disjoint games, so the documented tau is not
fitted to the games the check and the tests use.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from data_prep.atomic_file import write_atomic
from data_prep.cli_errors import ArgumentParser
from reward_calibration import plots
from reward_calibration.alfworld_candidates import (
    KINDS,
    NEGATIVE_KINDS,
    POSITIVE_KINDS,
    Example,
    examples_from_pairs,
    read_samples,
    samples_jsonl,
)
from reward_calibration.alfworld_pairs import BranchPair, collect_pairs, pairs_from_episodes, read_pairs, write_pairs
from reward_calibration.cli_options import add_embedder_options, embedder_settings
from reward_calibration.separation import cosine_stats, cosines, rates, separation
from reward_score.alfworld_state import state_differences
from reward_score.answer_format import STATE_CLOSE, STATE_OPEN
from reward_score.scoring import Scorer
from reward_score.settings import RewardSettings

CALIBRATED_MODES = ("binary", "facts")
# Coarse where embedders rarely need it, fine near 1 where small models put their threshold.
TAU_GRID = np.unique(np.round(np.concatenate([np.arange(0.30, 0.90, 0.005), np.arange(0.90, 1.0, 0.001)]), 3))
FACTS_KEEP = 0.99  # facts mode: the tau keeps this share of the fact-agreeing positives


def facts_agree(examples: list[Example]) -> np.ndarray:
    return np.array([not state_differences(ex.truth, ex.candidate) for ex in examples])


def mode_separation(kinds: list[str], cos: np.ndarray, agree: np.ndarray | None = None) -> dict[str, Any]:
    """Per tau, per kind: the share right in `binary` mode (cos >= tau) and, given `agree`, in `facts` mode,
    balanced accuracy pooled by samples; each mode's recommended tau (see the module docstring)."""
    modes = {"binary": np.ones_like(cos, dtype=bool)} | ({"facts": agree} if agree is not None else {})
    out: dict[str, Any] = {}
    for mode, gate in modes.items():
        res = separation(kinds, cos, TAU_GRID, POSITIVE_KINDS, NEGATIVE_KINDS, pooling="samples", gate=gate)
        if mode == "facts":
            kept = np.isin(np.asarray(kinds), POSITIVE_KINDS) & gate
            floor = float(np.quantile(cos[kept], 1.0 - FACTS_KEEP)) if kept.any() else 0.0
            res["recommended_tau"] = math.floor(floor * 100) / 100
        passed = gate & (cos >= res["recommended_tau"])
        res["at_recommended"] = rates(kinds, passed, POSITIVE_KINDS, NEGATIVE_KINDS, pooling="samples")
        out[mode] = res
    out["cosine_stats"] = cosine_stats(kinds, cos, KINDS)
    if agree is not None:
        kinds_arr = np.asarray(kinds)
        out["facts_agree"] = {k: float(agree[kinds_arr == k].mean()) for k in KINDS if (kinds_arr == k).any()}
    return out


def balanced_accuracy_at(kinds: list[str], cos: np.ndarray, tau: float) -> float:
    return rates(kinds, cos >= tau, POSITIVE_KINDS, NEGATIVE_KINDS, pooling="samples")["balanced_accuracy"]


def plot(result: dict[str, Any], kinds: list[str], cos: np.ndarray, title: str, path: Path) -> None:
    """Each mode's share right against tau, and the cosines by candidate kind, as one PNG."""
    modes = [m for m in CALIBRATED_MODES if m in result]
    fig, axes = plots.figure(len(modes) + 1, (6 * (len(modes) + 1), 4.8))
    for ax, mode in zip(axes, modes, strict=False):
        res = result[mode]
        plots.rate_curves(ax, res["table"], res["recommended_tau"], POSITIVE_KINDS, NEGATIVE_KINDS)
        ax.set(xlabel="tau", ylabel="share right", ylim=(0, 1.02), xlim=(TAU_GRID[0], 1.0), title=f"{mode} mode")
        ax.legend(fontsize=7, loc="lower left")
    plots.cosine_histogram(axes[-1], kinds, cos, KINDS, bins=60)
    axes[-1].set(xlabel="cosine to the real next state", ylabel="count", title="cosine by candidate kind")
    axes[-1].legend(fontsize=7)
    plots.save(fig, title, path)


def calibrate(
    pairs: list[BranchPair], settings: RewardSettings, out_dir: str | Path | None = None, *, name: str = "calibration"
) -> dict[str, Any]:
    """Per-kind separation of `settings`' embedder in binary and facts mode; writes PNG + JSON under out_dir."""
    return calibrate_examples(
        examples_from_pairs(pairs), settings, out_dir, name=name, pairs=len(pairs), games=len({p.game for p in pairs})
    )


def calibrate_examples(
    examples: list[Example],
    settings: RewardSettings,
    out_dir: str | Path | None = None,
    *,
    name: str = "calibration",
    pairs: int,
    games: int,
) -> dict[str, Any]:
    """`calibrate` on candidates already made (e.g. read back with `read_samples`)."""
    if not examples:
        raise ValueError("no transition pairs to calibrate on")
    cos = cosines(Scorer(settings), examples)
    kinds = [ex.kind for ex in examples]
    result = mode_separation(kinds, cos, facts_agree(examples))
    documented = settings.tau_for("alfworld")
    result.update(
        model=settings.model,
        instruction=settings.instruction,
        pairs=pairs,
        games=games,
        balanced_accuracy_at_paper_tau=balanced_accuracy_at(kinds, cos, 0.8),
        documented_tau=documented,
        documented_mode=settings.mode_for("alfworld"),
    )
    if out_dir is not None:
        out = Path(out_dir)
        title = f"{settings.model}: {result['pairs']} real ALFWorld transitions from {result['games']} games"
        plot(result, kinds, cos, title, out / f"{name}.png")
        write_atomic(out / f"{name}.json", json.dumps(result, indent=1))
        write_atomic(out / f"{name}.samples.jsonl", samples_jsonl(examples, cos))
    return result


def check(
    pairs: list[BranchPair], settings: RewardSettings, out_dir: str | Path | None = None, *, name: str = "check"
) -> dict[str, Any]:
    """Score every candidate with `settings` through `compute_score_batch`; per-kind share right, as JSON."""
    examples = examples_from_pairs(pairs)
    return check_examples(examples, settings, out_dir, name=name, pairs=len(pairs), games=len({p.game for p in pairs}))


def check_examples(
    examples: list[Example],
    settings: RewardSettings,
    out_dir: str | Path | None = None,
    *,
    name: str = "check",
    pairs: int,
    games: int,
) -> dict[str, Any]:
    """`check` on candidates already made (e.g. read back with `read_samples`)."""
    from reward_score.reward_functions import compute_score_batch

    kw = {k: v for k, v in vars(settings).items() if not k.startswith("_")}
    responses = [f"<think>The room answers.</think>{STATE_OPEN}{ex.candidate}{STATE_CLOSE}" for ex in examples]
    scores = compute_score_batch(["alfworld"] * len(examples), responses, [ex.truth for ex in examples], **kw)
    kinds_arr = np.array([ex.kind for ex in examples])
    right = np.array(
        [(sc["score"] == 1.0) == (ex.kind in POSITIVE_KINDS) for sc, ex in zip(scores, examples, strict=True)]
    )
    flips: dict[str, list[bool]] = defaultdict(list)
    for ex, ok in zip(examples, right, strict=True):
        if ex.kind == "flipped_fact":
            flips[ex.detail].append(bool(ok))
    result = {
        "model": settings.model,
        "mode": settings.mode_for("alfworld"),
        "tau": settings.tau_for("alfworld"),
        "pairs": pairs,
        "games": games,
        "share_right": {k: float(right[kinds_arr == k].mean()) for k in KINDS if (kinds_arr == k).any()},
        "n": {k: int((kinds_arr == k).sum()) for k in KINDS},
        "flipped_fact_by_flip": {k: [float(np.mean(v)), len(v)] for k, v in sorted(flips.items())},
    }
    if out_dir is not None:
        cos = np.array([sc["cosine"] if sc["cosine"] is not None else float("nan") for sc in scores])
        write_atomic(Path(out_dir) / f"{name}.json", json.dumps(result, indent=1))
        write_atomic(Path(out_dir) / f"{name}.samples.jsonl", samples_jsonl(examples, cos, scores))
    return result


def format_report(result: dict[str, Any]) -> str:
    lines = [f"model {result['model']}: {result['pairs']} pairs from {result['games']} games"]
    for k, s in result["cosine_stats"].items():
        agree = result.get("facts_agree", {}).get(k, float("nan"))
        lines.append(
            f"  {k:14s} n={s['n']:4d} cosine mean {s['mean']:.3f} min {s['min']:.3f} max {s['max']:.3f}"
            f"  facts agree {agree:.3f}"
        )
    for mode in CALIBRATED_MODES:
        res = result[mode]
        lines.append(f"{mode} mode:   tau  " + "  ".join(f"{k:>13s}" for k in KINDS) + "  balanced_acc")
        for r in res["table"]:
            if round(r["tau"] * 1000) % 50 == 0 or r["tau"] == res["recommended_tau"]:
                cells = "  ".join(f"{r.get(k, float('nan')):13.3f}" for k in KINDS)
                lines.append(f"           {r['tau']:.3f} {cells}  {r['balanced_accuracy']:.3f}")
        lo, hi = res["best_tau_range"]
        lines.append(
            f"  best balanced accuracy {res['best_balanced_accuracy']:.3f} for tau in [{lo:.3f}, {hi:.3f}]; "
            f"recommended tau {res['recommended_tau']}"
        )
    return "\n".join(lines)


def format_check(result: dict[str, Any]) -> str:
    cells = ", ".join(f"{k} {v:.3f} (n={result['n'][k]})" for k, v in result["share_right"].items())
    flips = ", ".join(f"{k} {v[0]:.2f} (n={v[1]})" for k, v in result["flipped_fact_by_flip"].items())
    return (
        f"check, {result['mode']} mode at tau {result['tau']}, {result['pairs']} pairs from {result['games']} games: "
        f"share right {cells}\n  flipped facts by flip: {flips}"
    )


def _pairs(args: argparse.Namespace, split: str, games: int | None, cache: Path | None) -> list[BranchPair]:
    if cache and cache.is_file():
        return read_pairs(cache)
    if args.episodes and split == args.split:
        pairs = pairs_from_episodes(args.episodes, args.data_root, branches=args.branches, seed=args.seed)
    else:
        pairs = collect_pairs(
            args.data_root, split, games=games, branches=args.branches, max_steps=args.max_steps, seed=args.seed
        )
    if cache:
        write_pairs(cache, pairs)
    return pairs


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", default=os.environ.get("ALFWORLD_DATA", "../shared/alfworld"))
    ap.add_argument("--split", default="valid_train", help="games to calibrate on (not the split the tests use)")
    ap.add_argument("--check-split", default="valid_seen", help="disjoint games to check the chosen settings on")
    ap.add_argument("--episodes", help="collected episodes JSONL (envs/episode.py); replayed to branch")
    ap.add_argument("--games", type=int, default=None, help="games per split (default: all)")
    ap.add_argument("--branches", type=int, default=4, help="other-action branches per game or episode")
    ap.add_argument("--max-steps", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    add_embedder_options(ap)
    ap.add_argument("--pairs-cache", help="folder of pairs JSONL per split: read if present, else written")
    ap.add_argument(
        "--reuse-samples",
        action="store_true",
        help="score the candidates of the samples JSONL already in --out (same candidates, a new reader or tau)",
    )
    ap.add_argument("--out", default="calibration_out")
    args = ap.parse_args(argv)

    cache = Path(args.pairs_cache) if args.pairs_cache else None
    tag = Path(args.model.rstrip("/")).name
    settings = embedder_settings(args)

    def candidates(split: str, name: str) -> tuple[list[Example], int, int]:
        if args.reuse_samples:
            examples, pairs = read_samples(Path(args.out) / f"{name}.samples.jsonl")
            return examples, pairs, len({ex.game for ex in examples})
        pairs = _pairs(args, split, args.games, cache / f"{split}.jsonl" if cache else None)
        return examples_from_pairs(pairs), len(pairs), len({p.game for p in pairs})

    name = f"{tag}_alfworld_{args.split}"
    examples, n_pairs, n_games = candidates(args.split, name)
    result = calibrate_examples(examples, settings, args.out, name=name, pairs=n_pairs, games=n_games)
    print(format_report(result))
    if args.check_split:
        name = f"{tag}_alfworld_{args.check_split}_check"
        examples, n_pairs, n_games = candidates(args.check_split, name)
        # The settings just calibrated: a tau left unset takes the documented value, so recalibrating means
        # updating DOCUMENTED_TAU (settings.py) and running this again.
        checked = check_examples(examples, settings, args.out, name=name, pairs=n_pairs, games=n_games)
        print(format_check(checked))
        # The paper's pure-embedding rule at its documented tau, on the same candidates, for comparison.
        binary = dataclasses.replace(settings, mode={"alfworld": "binary"})
        print(format_check(check_examples(examples, binary, args.out, name=f"{name}_binary", pairs=n_pairs,
                                          games=n_games)))  # fmt: skip
        result["check"] = checked
    print(f"wrote PNG, JSON and samples under {args.out}")
    return result


if __name__ == "__main__":
    main()
