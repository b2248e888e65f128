"""Modes binary and cosine: the real state and the prediction embedded, and the cosine gate the facts rules end with.

- binary: 1 if cos(E(prediction), E(real)) >= tau else 0 (the paper's reward; its pure-embedding form);
- cosine: the cosine itself;
- facts on an environment no state reader reads (neither ALFWorld nor tau2: 'default'): scored as binary.

The real state is embedded as the query (`settings.query_text`: with an instruction for asymmetric embedders), the
prediction cut to its budget as the document; the Scorer embeds the texts of a whole batch in one call, then
`complete` scores each sample from its two rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reward_score.results import BELOW_TAU, COSINE, MATCH, Prepared, warn_once
from reward_score.rules import RuleTools, Sample


def prepare(sample: Sample, tools: RuleTools) -> Prepared:
    """Binary or cosine mode: the sample waits for its embeddings."""
    sample.result["tau"] = tools.settings.tau_for(sample.env)
    return gate(sample, tools, Prepared(sample.result))


def prepare_unread_facts(sample: Sample, tools: RuleTools) -> Prepared:
    """Facts mode on an environment whose states no reader reads: binary, said once."""
    env = sample.env
    warn_once(f"facts {env}", f"mode facts reads ALFWorld and tau2 states; {env} samples are scored as binary")
    return prepare(sample, tools)


def gate(sample: Sample, tools: RuleTools, prep: Prepared) -> Prepared:
    """`prep` waiting for the cosine gate: the real state as the query, the cut prediction as the document."""
    prep.query, prep.doc = tools.settings.query_text(sample.truth), sample.pred
    return prep


def complete(prep: Prepared, query_row: np.ndarray, doc_row: np.ndarray) -> dict[str, Any]:
    """Score a sample that waited for its embeddings: the cosine (mode cosine) or `cos >= tau`."""
    r = prep.result
    cos = float(np.clip(np.dot(query_row, doc_row), -1.0, 1.0))
    r["cosine"] = cos
    if r["mode"] == "cosine":
        r["reason"] = COSINE
        prep.finish(cos)
    else:
        ok = cos >= r["tau"]
        r["reason"] = MATCH if ok else BELOW_TAU
        prep.finish(1.0 if ok else 0.0)
    return r
