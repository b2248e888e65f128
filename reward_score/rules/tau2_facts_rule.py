"""Facts mode on tau2 (its default; the comparison is reward_score/tau2_facts.py).

A tool response scores 1 if it is the real one as JSON data (key order, whitespace, number spelling free;
plain-text responses equal after normalisation), with no cosine; a user reply 1 if it states the same ids,
numbers, names and intent as the real one and cos >= tau; a real task-status line must be matched; else 0, the
differences in `facts` ("$.items[0].price: 54.04 != 45.04"). The paper's mixed rule gives that wrong price ~0.8
(reward_calibration/results/all-MiniLM-L6-v2_tau2_facts.md).
"""

from __future__ import annotations

from reward_score import tau2_facts
from reward_score.results import FACTS_DIFFER, MATCH, Prepared
from reward_score.rules import RuleTools, Sample
from reward_score.rules.embedding import gate

TOOL_RESPONSE = tau2_facts.TOOL_RESPONSE


def prepare(sample: Sample, tools: RuleTools) -> Prepared:
    """`tau2_facts.check` on the whole prediction decides a sample whose facts differ (0) and a tool response whose
    facts agree (1); a user reply whose facts agree waits for the cosine gate."""
    r = sample.result
    prep = Prepared(r)
    # a tool response is decided by the facts alone, no cosine
    r["tau"] = None if sample.kind == TOOL_RESPONSE else tools.settings.tau_for(sample.env)
    truth = sample.truth
    if r["truth_tokens"] > tools.settings.max_truth_tokens:  # a cut JSON response would no longer parse
        truth = sample.whole_truth
    verdict = tau2_facts.check(truth, sample.prediction, sample.kind)
    r["status_ok"] = verdict.status_ok
    if verdict.differences:
        r["facts"], r["reason"] = "; ".join(verdict.differences), FACTS_DIFFER
        return prep
    if sample.kind == TOOL_RESPONSE:
        r["reason"] = MATCH
        prep.finish(1.0)
        return prep
    return gate(sample, tools, prep)
