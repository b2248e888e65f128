"""The history window of every prompt: how many past steps a policy or world-model prompt shows, per environment.

The paper's H: 2 for ALFWorld, 5 for tau2-bench. One table for the policy prompt (collection, evaluation and the
stage-2 agent loop: `data_prep.policy_prompts`) and the world-model prompt (`data_prep.wm_prompts`, the world-model
and SFT datasets), and the schedule's `HISTORY` default (`recipe/rwml/schedule/settings.py`), which hands one value
to all of them. An env the table lacks (the learn check's `button_room`) has no default window: the stage-2 loop
shows every past step unless its settings name one.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

HISTORY_WINDOW: Mapping[str, int] = MappingProxyType({"alfworld": 2, "tau2": 5})
