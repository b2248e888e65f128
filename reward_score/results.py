"""What the reward returns for a sample: the keys of every score dict, the reasons, and a sample on its way there.

Every result has the same keys (`RESULT_KEYS`: verl stacks them per key), `reason` one of the reasons below (the
judge's in reward_score/judge.py). A rule (reward_score/rules/) turns a read sample into a `Prepared`: scored
already, or waiting for embeddings or for the judge; `Prepared.finish` sets its score. Bad input never raises: it
scores 0 with a reason, and what is wrong with the data is logged once per process (`warn_once`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from reward_score.judge_prompt import JudgeContext

logger = logging.getLogger(__name__)

# Reasons a sample scored what it did.
NO_PREDICTION = "no_prediction"  # no complete <next_state>...</next_state> pair
EMPTY_PREDICTION = "empty_prediction"  # the pair holds only whitespace
INVALID_UTF8 = "invalid_utf8"  # the prediction holds bytes that were not UTF-8 text
BAD_GROUND_TRUTH = "bad_ground_truth"  # the dataset row has no usable ground truth
BAD_INPUT = "bad_input"  # anything else about the sample that could not be read (logged)
ENV_MISMATCH = "env_mismatch"  # data_source names one environment, extra_info.env another (settings.env_of_sample)
MATCH = "match"  # binary: cosine >= tau; facts: the facts agree and cosine >= tau (tau2 tool responses: no cosine)
SECOND_READING = "agree by the second reading (alfworld_cues)"  # `facts` of a match some clause of which needed it
FACTS_DIFFER = "facts_differ"  # facts: the prediction names other objects, events or facts (see `facts`)
BELOW_TAU = "below_tau"  # binary: cosine < tau
COSINE = "cosine"  # cosine mode
ROUGE = "rouge"  # mixed mode, tool response

RESULT_KEYS = (
    "score",
    "reason",
    "parsed",
    "mode",
    "state_kind",
    "cosine",
    "tau",
    "rouge_l",
    "penalty",
    "status_ok",
    "think_tokens",
    "pred_chars",
    "pred_tokens",
    "truth_tokens",
    "cut",
    "facts",
)


def empty_result(mode: str, state_kind: str) -> dict[str, Any]:
    """A score dict of every key in `RESULT_KEYS`, scoring 0 with no reason yet."""
    r: dict[str, Any] = dict.fromkeys(RESULT_KEYS)
    r.update(score=0.0, parsed=False, mode=mode, state_kind=state_kind, penalty=0.0, cut=False)
    r.update(think_tokens=0, pred_chars=0, pred_tokens=0, truth_tokens=0)
    return r


@dataclass
class Prepared:
    """A sample after its rule: `result` (scored once `finish` ran), `query`/`doc` set when it still needs
    embeddings, `judge` when it still needs the judge's verdict."""

    result: dict[str, Any]
    query: str | None = None
    doc: str | None = None
    reasoning_penalty: float = 0.0
    status_penalty: float = 0.0
    judge: tuple[str, str, JudgeContext] | None = None  # mode judge: (real, predicted, context) to ask the judge

    def finish(self, base: float) -> None:
        """Score `base` less the penalties (mixed mode's), rounded to 6 places."""
        penalty = self.reasoning_penalty + self.status_penalty
        self.result["penalty"] = -penalty if penalty else 0.0
        self.result["score"] = round(float(base - penalty), 6)


_WARNED: set[str] = set()


def warn_once(key: str, message: str) -> None:
    """Log `message` the first time `key` is seen in this process (a dataset repeats its rows every epoch)."""
    if key not in _WARNED:
        _WARNED.add(key)
        logger.warning("reward: %s", message)
