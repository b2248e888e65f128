"""Mode judge: the paper's LLM-as-a-judge ablation (reward_score/judge.py asks the endpoint).

The real state and the prediction cut to its budget, with the row's task, observation and action, wait for the
judge: the Scorer asks it for a whole batch at once and scores each verdict (1 or 0; no verdict scores 0).
"""

from __future__ import annotations

from reward_score.judge_prompt import JudgeContext
from reward_score.results import Prepared
from reward_score.rules import RuleTools, Sample


def prepare(sample: Sample, tools: RuleTools) -> Prepared:
    """The sample waits for the judge's verdict on (real, predicted, context)."""
    context = JudgeContext.from_sample(sample.env, sample.extra_info)
    return Prepared(sample.result, judge=(sample.truth, sample.pred, context))
