"""A toy text environment for learnability checks: a locked room with coloured buttons, one of which opens the door.

Small, deterministic and certainly learnable: every task is the same room (the green button always opens the door),
with the buttons listed in a task-specific order so a policy must learn the colour, not a position. An episode ends
when the door opens (success) or when the step budget of the caller runs out; a wrong button is a valid action that
does nothing ("Nothing happens."), anything else is invalid. It speaks ALFWorld's protocol (admissible commands, one
command per step), so the stage-2 agent loop, the policy prompts and the action parser treat it like ALFWorld.
"""

from __future__ import annotations

import itertools

from envs.base import EnvError, ResetResult, StepResult, TaskSpec, TextEnv

COLOURS = ("red", "green", "blue")
WINNING = "green"
TASK = "Your task is to: open the door."
SPLITS = ("train", "test")


def button_action(colour: str) -> str:
    return f"press {colour} button"


def list_button_room_tasks(split: str) -> list[TaskSpec]:
    """One task per order of the buttons (3! = 6), the same for every split: the check trains and tests on them."""
    if split not in SPLITS:
        raise EnvError(f"button_room has splits {', '.join(SPLITS)}; got {split!r}")
    return [
        TaskSpec(env="button_room", task_id="-".join(order), split=split, kwargs={"order": list(order)})
        for order in itertools.permutations(COLOURS)
    ]


class ButtonRoomEnv(TextEnv):
    """The room of one task; `reset` starts it over."""

    name = "button_room"

    def __init__(self) -> None:
        self._order: list[str] | None = None
        self._done = False

    def reset(self, task: TaskSpec) -> ResetResult:
        order = list(task.kwargs.get("order") or [])
        if sorted(order) != sorted(COLOURS):
            raise EnvError(f"button_room task {task.task_id!r}: kwargs.order must be a permutation of {COLOURS}")
        self._order, self._done = order, False
        listed = ", a ".join(f"{c} button" for c in order)
        observation = f"You are in a locked room. On the wall next to the door, you see a {listed}.\n\n{TASK}"
        return ResetResult(observation=observation, task=TASK, info={"order": order})

    def step(self, action: str) -> StepResult:
        if self._order is None:
            raise EnvError("button_room: step before reset")
        if self._done:
            return StepResult("The episode is over.", 0.0, True, True, False)
        pressed = next((c for c in self._order if " ".join(action.split()).lower() == button_action(c)), None)
        if pressed is None:
            return StepResult("Nothing happens.", 0.0, False, False, False)
        if pressed == WINNING:
            self._done = True
            return StepResult("You press the green button. The door opens.", 1.0, True, True, True)
        return StepResult(f"You press the {pressed} button. Nothing happens.", 0.0, False, False, True)

    @property
    def admissible_actions(self) -> list[str] | None:
        if self._order is None or self._done:
            return None
        return [button_action(c) for c in self._order]
