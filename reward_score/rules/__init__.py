"""The reward's rules, one per module, behind one interface: `prepare(sample, tools) -> Prepared`.

The Scorer (reward_score/scoring.py) reads a sample -- its environment, state kind, real state and prediction, both
cut to their token budgets -- into a `Sample`, and hands it to the rule `scoring.RULES` names for its mode and
environment. The rule returns a `Prepared` (reward_score/results.py): scored already (`Prepared.finish`), waiting
for the embeddings of `query` and `doc` (the cosine gate; `embedding.complete` scores it), or for the judge.

    alfworld_facts   facts on ALFWorld: the world states must agree (alfworld_state), then the cosine gate
    tau2_facts_rule  facts on tau2 (tau2_facts): tool responses equal as JSON data; user replies by their facts,
                     then the cosine gate
    embedding        binary (`cos >= tau`) and cosine; facts on an environment no state reader reads
    mixed            the paper's tau2 rule: ROUGE-L for tool responses, else binary; think and status penalties
    judge_rule       the paper's LLM judge (reward_score/judge.py)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from reward_score.results import Prepared
from reward_score.settings import RewardSettings
from reward_score.token_budget import TokenCounter


@dataclass
class Sample:
    """One sample as the Scorer read it; `result` is its score dict so far (parsed, token counts, cut)."""

    env: str  # 'alfworld', 'tau2' or 'default' (settings.env_of_sample)
    kind: str  # extra_info.state_kind: observation, tool_response or user_reply
    truth: str  # the real state, cut to max_truth_tokens
    whole_truth: str  # the real state as the row holds it
    prediction: str  # the whole prediction (a second status line past the budget still counts)
    pred: str  # the prediction cut to the budget: what is embedded
    reasoning: str  # the <think> text
    extra_info: Any
    result: dict[str, Any]


class RuleTools(Protocol):
    """What a rule may use of the Scorer: its settings, its token counter and ROUGE-L."""

    settings: RewardSettings

    @property
    def counter(self) -> TokenCounter: ...

    def rouge_l(self, prediction: str, truth: str) -> float: ...


Rule = Callable[[Sample, RuleTools], Prepared]
