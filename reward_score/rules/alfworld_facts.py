"""Facts mode on ALFWorld (its default): the world states must agree, then the cosine gate.

1 if the prediction reports the real world state -- read by `alfworld_state` into where the agent is, what is open,
in or on what, held, hot/cool/clean/sliced/on, refusal, and the status of the last line; a negation of a sighting,
a hedge or a contradiction is unreadable; plain wording outside its grammar gets the stricter second reading of
`alfworld_cues` (names in order, state-word classes; `facts` says so) -- and cos(E(prediction), E(real)) >= tau,
the prediction embedded with its presentation taken off (code fences, emoji, enclosing quotes; a markdown table as
the sentences it says: `alfworld_layout`), else 0 (`facts` lists the differences). An embedder alone cannot tell
"You take the mug 3" (same fact) from "You take the mug 1" (wrong object): reward_calibration/results/ shows no
cosine threshold does both.
"""

from __future__ import annotations

from reward_score.alfworld_state import read_state, state_differences, without_presentation
from reward_score.results import FACTS_DIFFER, SECOND_READING, Prepared
from reward_score.rules import RuleTools, Sample
from reward_score.rules.embedding import gate


def prepare(sample: Sample, tools: RuleTools) -> Prepared:
    """Facts that differ score 0 now; facts that agree wait for the cosine gate."""
    r = sample.result
    r["tau"] = tools.settings.tau_for(sample.env)
    # The whole prediction is read, not the cut one: text past the budget (a second status line) counts.
    differences = state_differences(sample.truth, sample.prediction)
    if differences:
        r["facts"], r["reason"] = "; ".join(differences), FACTS_DIFFER
        return Prepared(r)
    if read_state(sample.prediction).unread:
        r["facts"] = SECOND_READING
    prep = gate(sample, tools, Prepared(r))
    prep.doc = without_presentation(sample.pred) or prep.doc  # a table is compared as the sentences it says
    return prep
