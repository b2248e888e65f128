"""The kind of an ALFWorld world-model triplet: what part of the next observation the prompt lets a model know.

refusal                   the game refused the command ("Nothing happens.")
object_interaction        take, move/put, heat, cool, clean, slice, use/toggle that the game carried out
arrival_closed            `go to X` and X is closed ("You arrive at X. The X is closed.")
arrival_unseen_contents   `go to X` reporting what is in/on X, when no observation in the prompt arrived at or
                          opened X: the contents cannot be known from the prompt
arrival_seen_contents     the same, for an X the prompt already showed
open_close, look_examine  open/close; look, inventory, examine
other                     any other command
"""

from __future__ import annotations

import re
from typing import Any

REFUSAL = "Nothing happens."
INTERACTION_VERBS = ("take", "move", "put", "heat", "cool", "clean", "slice", "use", "toggle")
LOOK_VERBS = ("look", "inventory", "examine")
NEXT_ACTION = "The agent's next action"
KINDS = (
    "refusal",
    "object_interaction",
    "arrival_closed",
    "arrival_unseen_contents",
    "arrival_seen_contents",
    "open_close",
    "look_examine",
    "other",
)


def _shown_before(target: str, history: str) -> bool:
    """Whether an observation in the prompt's history arrived at or opened `target` (so its contents were shown)."""
    name = re.escape(target.strip().lower())
    return re.search(rf"(arrive at (the )?{name}\b|open the {name}\b)", history.lower()) is not None


def transition_kind(action: str, truth: str, prompt_text: str) -> str:
    """The kind (above) of the triplet with this action, real next observation and user prompt text."""
    verb = action.strip().lower().split(" ", 1)[0] if action.strip() else ""
    if truth.strip().startswith(REFUSAL):
        return "refusal"
    if verb in INTERACTION_VERBS:
        return "object_interaction"
    if verb == "go":
        target = action.strip()[len("go to ") :] if action.lower().startswith("go to ") else ""
        first = truth.strip().splitlines()[0].lower() if truth.strip() else ""
        if re.search(r"\bis closed\b", first):
            return "arrival_closed"
        history = prompt_text.split(NEXT_ACTION, 1)[0]
        return "arrival_seen_contents" if target and _shown_before(target, history) else "arrival_unseen_contents"
    if verb in ("open", "close"):
        return "open_close"
    if verb in LOOK_VERBS:
        return "look_examine"
    return "other"


def row_kind(row: dict[str, Any]) -> str:
    """transition_kind of a world-model parquet row (build_wm_dataset's layout)."""
    user = next((m["content"] for m in row["prompt"] if m["role"] == "user"), "")
    return transition_kind(row["extra_info"].get("action", ""), row["reward_model"]["ground_truth"], user)


def scene_of(row: dict[str, Any]) -> int:
    """The AI2-THOR floor plan of the row's game: the number ending the game folder's name (`...-DeskLamp-327/...`)."""
    game = row["extra_info"]["task_id"].split("/", 1)[0]
    tail = game.rsplit("-", 1)[-1]
    if not tail.isdigit():
        raise ValueError(f"extra_info.task_id {row['extra_info']['task_id']!r}: no scene number ending its game name")
    return int(tail)
