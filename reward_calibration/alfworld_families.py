"""The paraphrase-family corpus of the ALFWorld reader: generate it from real transitions, score it, per family.

A family (`family_framework`) rewords a real next state and keeps its world state exactly; a fact reader must
accept every paraphrase. The sets: `dev` (`alfworld_families_dev`, developed on), and `heldout` to `heldout10`
(`alfworld_families_heldout*`, not for development).

The CLI collects real transitions (`alfworld_pairs.collect_pairs`: both the trajectory's action and the branch's
other admissible action are real transitions of the same state), writes every applicable family's paraphrase to
`DIR/alfworld_families_<families>.jsonl`, scores each through `compute_score_batch` as the policy writes it, and
writes the per-family accepted share to `DIR/alfworld_families_<families>_<label>.json`:

    python -m reward_calibration.alfworld_families --data-root ../shared/alfworld --split valid_seen \\
        --families dev --out reward_calibration/results --label before
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from data_prep.atomic_file import write_atomic
from data_prep.cli_errors import ArgumentParser, run_cli
from reward_calibration import (
    alfworld_families_dev,
    alfworld_families_heldout,
    alfworld_families_heldout2,
    alfworld_families_heldout3,
    alfworld_families_heldout4,
    alfworld_families_heldout5,
    alfworld_families_heldout6,
    alfworld_families_heldout7,
    alfworld_families_heldout8,
    alfworld_families_heldout9,
    alfworld_families_heldout10,
)
from reward_calibration.alfworld_pairs import BranchPair, collect_pairs, read_pairs, write_pairs
from reward_calibration.alfworld_rewrites import OBJECT_RE
from reward_calibration.family_framework import Family, Transition
from reward_score.answer_format import STATE_CLOSE, STATE_OPEN, THINK_CLOSE, THINK_OPEN

# The family sets `--families` names, each a module's FAMILIES.
FAMILY_SETS: dict[str, dict[str, Family]] = {
    "dev": alfworld_families_dev.FAMILIES,
    "heldout": alfworld_families_heldout.FAMILIES,
    "heldout2": alfworld_families_heldout2.FAMILIES,
    "heldout3": alfworld_families_heldout3.FAMILIES,
    "heldout4": alfworld_families_heldout4.FAMILIES,
    "heldout5": alfworld_families_heldout5.FAMILIES,
    "heldout6": alfworld_families_heldout6.FAMILIES,
    "heldout7": alfworld_families_heldout7.FAMILIES,
    "heldout8": alfworld_families_heldout8.FAMILIES,
    "heldout9": alfworld_families_heldout9.FAMILIES,
    "heldout10": alfworld_families_heldout10.FAMILIES,
}


@dataclass(frozen=True)
class Item:
    family: str
    game: str
    t: int
    action: str
    real: str
    paraphrase: str
    source: str = "real"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def transitions_from_pairs(pairs: Iterable[Any], seed: int = 0) -> list[Transition]:
    """Both real transitions of each branch pair: the trajectory's action and the other admissible action."""
    out = []
    for p in pairs:
        out.append(Transition(p.game, p.t, p.action, p.next_state, "real", seed))
        out.append(Transition(p.game, p.t, p.other_action, p.other_next_state, "other", seed))
    return out


def generate(transitions: Iterable[Transition], families: dict[str, Family]) -> list[Item]:
    """Every applicable family's paraphrase of every transition, family by family."""
    transitions = list(transitions)
    return [
        Item(name, tr.game, tr.t, tr.action, tr.real, para, tr.source)
        for name, fam in families.items()
        for tr in transitions
        if (para := fam(tr)) is not None
    ]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score 95% interval of a share k/n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


def rejection(score: dict[str, Any]) -> str:
    """A rejection's reason and its first fact difference, numbered objects and sets blanked so that like
    rejections count together."""
    facts = str(score.get("facts") or "").split("; ")[0]
    if not facts:
        return str(score.get("reason"))
    facts = re.sub(r"\{[^{}]*\}", "{...}", OBJECT_RE.sub("<obj>", facts))
    return f"{score.get('reason')}: {facts[:160]}"


_REASONING = "The action changes the room; this is what it shows next."


def response(paraphrase: str) -> str:
    """The paraphrase as the policy writes its answer."""
    return f"{THINK_OPEN}{_REASONING}{THINK_CLOSE}{STATE_OPEN}{paraphrase}{STATE_CLOSE}"


def score_items(items: Sequence[Item], settings: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The reward of each item's paraphrase against its real state, as the policy's answer (`response`)."""
    from reward_score import compute_score_batch

    if not items:
        return []
    return compute_score_batch(
        ["alfworld"] * len(items), [response(it.paraphrase) for it in items], [it.real for it in items],
        **(settings or {}),
    )  # fmt: skip


@dataclass
class FamilyResult:
    n: int = 0
    accepted: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self, examples: int = 4) -> dict[str, Any]:
        share = self.accepted / self.n if self.n else 0.0
        return {
            "n": self.n,
            "accepted": self.accepted,
            "accepted_share": round(share, 4),
            "wilson95": list(wilson(self.accepted, self.n)),
            "top_rejections": [[r, c] for r, c in self.reasons.most_common(3)],
            "rejected_examples": self.rejected[:examples],
        }


def summarize(items: Sequence[Item], scores: Sequence[dict[str, Any]], order: Sequence[str]) -> dict[str, Any]:
    """Per family (in `order`, then any other): n, accepted share, Wilson interval, top rejections, examples."""
    per: dict[str, FamilyResult] = {name: FamilyResult() for name in order}
    total = FamilyResult()
    for it, sc in zip(items, scores, strict=True):
        mine = per.setdefault(it.family, FamilyResult())
        for res in (mine, total) if it.family != CONTROL else (mine,):
            res.n += 1
            if sc.get("score") == 1.0:
                res.accepted += 1
            else:
                reason = rejection(sc)
                res.reasons[reason] += 1
                res.rejected.append(
                    {"action": it.action, "real": it.real, "paraphrase": it.paraphrase, "reason": reason,
                     "cosine": sc.get("cosine")}
                )  # fmt: skip
    return {"families": {k: v.to_dict() for k, v in per.items()}, "overall": total.to_dict(examples=0)}


CONTROL = "exact"  # the real state itself, scored as a check that the corpus is read right (not a family)


def format_table(summary: dict[str, Any], title: str) -> str:
    lines = [
        f"### {title}",
        "",
        "| family | n | accepted | share | Wilson 95% | top rejection |",
        "|---|---:|---:|---:|---|---|",
    ]
    rows = list(summary["families"].items()) + [("**overall** (families)", summary["overall"])]
    for name, r in rows:
        top = r["top_rejections"][0] if r["top_rejections"] else None
        top_text = f"{top[0]} ({top[1]})".replace("|", "/") if top else ""
        lo, hi = r["wilson95"]
        lines.append(
            f"| {name} | {r['n']} | {r['accepted']} | {r['accepted_share']:.3f} | [{lo:.3f}, {hi:.3f}] | {top_text} |"
        )
    return "\n".join(lines)


def _pairs(args: argparse.Namespace) -> list[BranchPair]:
    cache = Path(args.pairs_cache) if args.pairs_cache else None
    if cache and cache.is_file():
        return read_pairs(cache)
    pairs = collect_pairs(
        args.data_root, args.split, games=args.games, branches=args.branches, max_steps=args.max_steps, seed=args.seed
    )
    if cache:
        write_pairs(cache, pairs)
    return pairs


MIN_ITEMS = 60  # a family with fewer items than this gets a warning: its share is too loose to compare


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", default=os.environ.get("ALFWORLD_DATA", "../shared/alfworld"))
    ap.add_argument("--split", default="valid_seen")
    ap.add_argument("--families", choices=tuple(FAMILY_SETS), default="dev")
    ap.add_argument("--out", required=True, help="folder for the corpus JSONL and the result JSON")
    ap.add_argument("--label", default="before", help="names the reader version scored (before, after, ...)")
    ap.add_argument("--games", type=int, default=40)
    ap.add_argument("--branches", type=int, default=4, help="branch pairs per game (each gives two transitions)")
    ap.add_argument("--max-steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0, help="seeds the games' order, the branches and the families")
    ap.add_argument("--pairs-cache", help="JSONL of branch pairs: read if present, else collected and written")
    ap.add_argument("--settings", default="{}", help="reward settings as JSON (default: the documented ones)")
    ap.add_argument("--generate-only", action="store_true", help="write the corpus JSONL and stop (no scoring)")
    args = ap.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    families = FAMILY_SETS[args.families]
    transitions = transitions_from_pairs(_pairs(args), seed=args.seed)
    items = generate(transitions, families)
    control = [Item(CONTROL, tr.game, tr.t, tr.action, tr.real, tr.real, tr.source) for tr in transitions]
    corpus = out / f"alfworld_families_{args.families}.jsonl"
    write_atomic(corpus, "".join(json.dumps(it.to_dict()) + "\n" for it in items))
    if args.generate_only:
        counts = Counter(it.family for it in items)
        for name in families:
            print(f"{name}: {counts[name]} items")
        print(f"\nwrote {corpus} ({len(items)} items from {len(transitions)} transitions; not scored)")
        return {"corpus": str(corpus), "items": len(items), "families": dict(counts)}
    scored = [*items, *control]
    scores = score_items(scored, json.loads(args.settings))
    summary = summarize(scored, scores, [*families, CONTROL])
    summary.update(
        label=args.label, families_set=args.families, split=args.split, games=args.games, branches=args.branches,
        max_steps=args.max_steps, seed=args.seed, transitions=len(transitions), items=len(items),
        settings=json.loads(args.settings), corpus=corpus.name,
    )  # fmt: skip
    result = out / f"alfworld_families_{args.families}_{args.label}.json"
    write_atomic(result, json.dumps(summary, indent=2) + "\n")
    for name, r in summary["families"].items():
        if name != CONTROL and r["n"] < MIN_ITEMS:
            print(f"warning: family {name} has {r['n']} items (< {MIN_ITEMS}); use more --games", file=sys.stderr)
    print(format_table(summary, f"{args.families} families, reader `{args.label}`, {args.split}"))
    print(f"\nwrote {corpus} and {result}")
    return summary


def cli(argv: list[str] | None = None) -> int:
    main(argv)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(cli))
