"""Mode mixed: the paper's tau2 rule (an ablation; ALFWorld samples in this mode take its binary half).

A tool response scores its ROUGE-L F1 rounded to `rouge_bin` steps, any other state the binary embedding reward
(reward_score/rules/embedding.py); then -think_penalty when the reasoning has <= think_min_tokens tokens and
-status_penalty when the predicted task-status line differs from the real one.
"""

from __future__ import annotations

from reward_score.answer_format import status_of
from reward_score.results import ROUGE, Prepared
from reward_score.rules import RuleTools, Sample
from reward_score.rules.embedding import gate


def prepare(sample: Sample, tools: RuleTools) -> Prepared:
    """Penalties set; a tool response scored by ROUGE-L now, anything else waiting for the cosine gate."""
    s, r = tools.settings, sample.result
    prep = Prepared(r)
    r["think_tokens"] = tools.counter.count(sample.reasoning) if sample.reasoning.strip() else 0
    if r["think_tokens"] <= s.think_min_tokens:
        prep.reasoning_penalty = s.think_penalty
    real_status = status_of(sample.truth)
    if real_status is not None:
        r["status_ok"] = status_of(sample.prediction) == real_status
        if not r["status_ok"]:
            prep.status_penalty = s.status_penalty
    if sample.kind == "tool_response":
        r["rouge_l"] = f1 = tools.rouge_l(sample.pred, sample.truth)
        r["reason"] = ROUGE
        prep.finish(round(round(f1 / s.rouge_bin) * s.rouge_bin, 6))
        return prep
    r["tau"] = s.tau_for(sample.env)
    return gate(sample, tools, prep)
