"""`--wm-parquet`: the served model as a world model, scored by the next-state reward on a held-out parquet.

The reward backend is loaded and asked for one embedding before any prediction is requested, and a backend that
fails (or a batch whose every sample scores bad_input) is an `EvalError` naming it: never a mean reward of 0.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recipe.rwml.evaluate.errors import EvalError


@dataclass(frozen=True)
class WorldModelSettings:
    """The `--wm-*` flags and the endpoint they use, typed (`recipe.rwml.evaluate.cli` builds it from its flags)."""

    parquet: str  # a world-model parquet (data_prep.build_wm_dataset)
    base_url: str  # the served model, asked as a world model
    model: str
    api_key: str = "EMPTY"
    timeout: float = 120.0  # seconds per request
    max_samples: int | None = None
    temperature: float = 0.0
    max_tokens: int = 512
    reward_kwargs: str | None = None  # reward settings as JSON


def evaluate_world_model(settings: WorldModelSettings, out_dir: Path) -> dict[str, Any]:
    """Mean next-state reward of the endpoint's predictions on a world-model parquet (resumable)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from openai import OpenAI, OpenAIError
    from tqdm import tqdm

    from reward_score import compute_score_batch
    from reward_score.embedders import EmbeddingBackendError
    from reward_score.reward_functions import check_backend
    from reward_score.scoring import BAD_INPUT

    path = Path(settings.parquet)
    if not path.is_file():
        raise EvalError(f"--wm-parquet {path}: no such file")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        raise EvalError(
            f"--wm-parquet {path} is not a parquet file ({type(err).__name__}), pass a world-model "
            "parquet written by data_prep.build_wm_dataset"
        ) from err
    missing = {"data_source", "prompt", "reward_model"} - set(table.column_names)
    if missing:
        raise EvalError(f"{path}: missing column(s) {sorted(missing)}; expected a world-model parquet")
    rows = table.to_pylist()[: settings.max_samples] if settings.max_samples else table.to_pylist()
    for i, row in enumerate(rows):
        gt = (row.get("reward_model") or {}).get("ground_truth")
        if not isinstance(row.get("prompt"), list) or gt is None:
            raise EvalError(f"{path}: row {i}: needs a 'prompt' message list and reward_model.ground_truth")

    reward_kwargs = _reward_kwargs(settings.reward_kwargs)
    try:
        check_backend(reward_kwargs)
    except EmbeddingBackendError as err:
        raise EvalError(f"{err} (--wm-reward-kwargs)") from err

    pred_path = out_dir / "wm_predictions.jsonl"
    done = _read_predictions(pred_path)
    client = OpenAI(base_url=settings.base_url, api_key=settings.api_key, timeout=settings.timeout, max_retries=2)
    todo = [i for i in range(len(rows)) if i not in done]
    with open(pred_path, "a", encoding="utf-8") as f:
        for i in tqdm(todo, desc="world-model predictions", unit="row"):
            try:
                resp = client.chat.completions.create(
                    model=settings.model,
                    messages=rows[i]["prompt"],
                    temperature=settings.temperature,
                    max_tokens=settings.max_tokens,
                )
            except OpenAIError as err:
                raise EvalError(
                    f"world-model endpoint {settings.base_url} (model {settings.model!r}) failed on row {i}: "
                    f"{type(err).__name__}, --base-url, check the server and rerun (rows done so far are kept)"
                ) from err
            rec = {"row": i, "prediction": resp.choices[0].message.content or ""}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            f.flush()
            done[i] = rec
    try:
        scores = compute_score_batch(
            [r["data_source"] for r in rows],
            [done[i]["prediction"] for i in range(len(rows))],
            [r["reward_model"]["ground_truth"] for r in rows],
            [r.get("extra_info") for r in rows],
            **reward_kwargs,
        )
    except EmbeddingBackendError as err:
        raise EvalError(f"{err} (--wm-reward-kwargs; the predictions are kept in {pred_path})") from err
    if scores and all(s["reason"] == BAD_INPUT for s in scores):
        raise EvalError(
            f"every one of the {len(scores)} predictions scored {BAD_INPUT} (the reward could not read them: see the "
            f"warnings above), --wm-reward-kwargs, fix the reward backend and rerun (predictions kept in {pred_path})"
        )
    by_source: dict[str, list[float]] = defaultdict(list)
    by_kind: dict[str, list[float]] = defaultdict(list)  # tau2: tool responses and user replies score differently
    for row, s in zip(rows, scores, strict=True):
        by_source[str(row["data_source"])].append(float(s["score"]))
        by_kind[str((row.get("extra_info") or {}).get("state_kind", "unknown"))].append(float(s["score"]))
    values = [float(s["score"]) for s in scores]
    return {
        "parquet": str(path),
        "samples": len(values),
        "mean_reward": sum(values) / max(len(values), 1),
        "by_data_source": {k: sum(v) / len(v) for k, v in sorted(by_source.items())},
        "by_state_kind": {k: {"samples": len(v), "mean_reward": sum(v) / len(v)} for k, v in sorted(by_kind.items())},
    }


def _reward_kwargs(text: str | None) -> dict[str, Any]:
    """The reward settings of `--wm-reward-kwargs`; EvalError naming the flag when they are no valid settings."""
    from reward_score.settings import RewardSettings

    try:
        return RewardSettings.from_json(text, "--wm-reward-kwargs")
    except ValueError as err:
        raise EvalError(str(err)) from err


def _read_predictions(pred_path: Path) -> dict[int, dict[str, Any]]:
    """Row -> prediction record of an earlier run's `wm_predictions.jsonl` (empty when there is none)."""
    done: dict[int, dict[str, Any]] = {}
    if pred_path.exists():
        for lineno, line in enumerate(pred_path.read_text().splitlines(), start=1):
            if line.strip():
                try:
                    rec = json.loads(line)
                    done[int(rec["row"])] = rec
                except (ValueError, KeyError) as err:
                    raise EvalError(f"{pred_path}:{lineno}: bad prediction record ({err})") from err
    return done
