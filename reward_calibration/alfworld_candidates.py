"""The candidates the ALFWorld calibration compares with a real next state, per kind, and their samples files.

For every real transition (`alfworld_pairs.BranchPair`):
- positives, a reward must score them 1: the real state (`exact`), its list reordered (`reordered`), and a
  paraphrase -- every sentence in other words, the same facts (`paraphrased`, `alfworld_rewrites.paraphrase`);
- negatives, a reward must score them 0: another admissible action's real outcome in the very same state
  (`other_action`), one numbered object swapped for another of the game (`object_swap`), one fact flipped
  (`flipped_fact`: open/closed, something/nothing, carrying, on/off, else the task status), and the previous
  observation copied (`previous_copy`).
A run keeps its candidates as `<name>.samples.jsonl` (`samples_jsonl`); `read_samples` reads them back, so a new
reader or tau is measured on exactly the candidates the last one was.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reward_calibration.alfworld_pairs import BranchPair
from reward_calibration.alfworld_rewrites import OBJECT_RE, flip_fact, paraphrase, reorder, swap_object
from reward_score.answer_format import status_of, with_status

POSITIVE_KINDS = ("exact", "reordered", "paraphrased")
NEGATIVE_KINDS = ("other_action", "object_swap", "flipped_fact", "previous_copy")
KINDS = (*POSITIVE_KINDS, *NEGATIVE_KINDS)


def rewrite(state: str) -> str:
    """A meaning-preserving rewrite that keeps nearly every word (the list reordered): `alfworld_rewrites.reorder`."""
    return reorder(state)


@dataclass(frozen=True)
class Example:
    truth: str
    candidate: str
    kind: str  # one of KINDS
    game: str
    detail: str = ""  # flipped_fact: which fact was flipped


def examples_from_pairs(pairs: Iterable[BranchPair], seed: int = 0) -> list[Example]:
    """The candidates of every pair (see the module docstring); deterministic for a seed."""
    pairs = list(pairs)
    objects: dict[str, set[str]] = defaultdict(set)  # game -> numbered objects seen in any of its states
    for p in pairs:
        for text in (p.observation, p.next_state, p.other_next_state):
            objects[p.game].update(OBJECT_RE.findall(text))
    out: list[Example] = []
    for p in pairs:
        rng = random.Random(f"{seed}:{p.game}:{p.t}")
        real = p.next_state
        others = sorted(objects[p.game])
        flipped = flip_fact(real, others, rng)
        candidates = {
            "exact": (real, ""),
            "reordered": (reorder(real), ""),
            "paraphrased": (paraphrase(real, rng), ""),
            "other_action": (p.other_next_state, ""),
            "object_swap": (swap_object(real, others, rng), ""),
            "flipped_fact": (flipped[1], flipped[0]) if flipped else (None, ""),
            "previous_copy": (with_status(p.observation, bool(status_of(real))), ""),
        }
        for kind, (cand, detail) in candidates.items():
            # A rewrite identical to the real state adds nothing; a negative identical to it is no negative.
            if cand is None or (kind != "exact" and cand == real):
                continue
            out.append(Example(real, cand, kind, p.game, detail))
    return out


def read_samples(path: Path) -> tuple[list[Example], int]:
    """The candidates of an earlier run's `<name>.samples.jsonl` and its pair count (from `<name>.json`): a new
    reader or tau measured on exactly the candidates the last one was, without replaying the games."""
    examples = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        try:
            row = json.loads(line)
            examples.append(Example(row["truth"], row["candidate"], row["kind"], row["game"], row.get("detail", "")))
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{path}:{i}: not a calibration sample ({type(e).__name__}: {e})") from None
    summary = path.with_name(path.name.removesuffix(".samples.jsonl") + ".json")
    return examples, int(json.loads(summary.read_text())["pairs"])


def samples_jsonl(examples: list[Example], cos: np.ndarray, scores: list[dict[str, Any]] | None = None) -> str:
    """One JSON line per candidate: its kind, flip, cosine, game (and, given `scores`, the reward's verdict)."""
    rows = []
    for i, ex in enumerate(examples):
        row = {"kind": ex.kind, "detail": ex.detail, "cosine": round(float(cos[i]), 4), "game": ex.game}
        if scores is not None:
            row.update(score=scores[i]["score"], reason=scores[i]["reason"], facts=scores[i]["facts"])
        rows.append(json.dumps(row | {"truth": ex.truth, "candidate": ex.candidate}) + "\n")
    return "".join(rows)
