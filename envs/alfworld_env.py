"""ALFWorld through the official alfworld 0.4.2 / TextWorld stack, one game file at a time.

Games are read from the standard layout `<data_root>/json_2.1.1/<split>/<task folder>/<trial>/game.tw-pddl`
(the layout `alfworld-download` writes, and `$ALFWORLD_DATA` points at, as for alfworld itself). The env
wraps TextWorld with alfworld's own wrappers -- the demangler that names objects "apple 1", the game-file
info, and the handcoded expert -- so observations, admissible commands and the expert's next action are
exactly what alfworld's `AlfredTWEnv` gives. One TextWorld env is kept and re-pointed at each new game:
loading a new game into a warm env is ~3x faster than starting one.
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
import threading
from pathlib import Path
from typing import Any

from envs.base import EnvError, ResetResult, StepResult, TaskSpec, TextEnv

BUNDLED_DATA_ROOT = Path(__file__).resolve().parent / "alfworld_games"
TASK_TYPES = (
    "pick_and_place_simple",
    "look_at_obj_in_light",
    "pick_clean_then_place_in_recep",
    "pick_heat_then_place_in_recep",
    "pick_cool_then_place_in_recep",
    "pick_two_obj_and_place",
)
INVALID_FEEDBACK = "Nothing happens."
# The user's $ALFWORLD_DATA, read before alfworld is imported: importing alfworld sets it to its own cache folder
# (~/.cache/alfworld, created empty) when it is unset, which would hide the bundled games in this process.
USER_ALFWORLD_DATA = os.environ.get("ALFWORLD_DATA")
_SKIP_MARKERS = ("movable", "Sliced")  # alfworld's loader skips these task folders too


def resolve_data_root(flag: str | None = None) -> Path:
    """`flag`, else `$ALFWORLD_DATA`, else the bundled games; "bundled" names the bundled games."""
    value = flag or USER_ALFWORLD_DATA
    root = BUNDLED_DATA_ROOT if not value or value == "bundled" else Path(value).expanduser()
    if not root.is_dir():
        raise EnvError(f"ALFWorld data root {root} does not exist (expected a folder holding json_2.1.1/)")
    if not (root / "json_2.1.1").is_dir():
        raise EnvError(f"ALFWorld data root {root} has no json_2.1.1/ folder (the layout alfworld-download writes)")
    return root


def task_type_of(task_id: str) -> str:
    """The task type of a task id or task folder name ("pick_and_place_simple-Apple-None-Fridge-1/trial_x")."""
    head = task_id.split("/")[0]
    for t in sorted(TASK_TYPES, key=len, reverse=True):
        if head.startswith(t):
            return t
    return head.split("-")[0]


def list_alfworld_tasks(data_root: str | Path, split: str, task_types: list[str] | None = None) -> list[TaskSpec]:
    """Every solvable game of `split`, sorted by task id; `task_types` keeps only those types."""
    split_dir = Path(data_root) / "json_2.1.1" / split
    if not split_dir.is_dir():
        existing = sorted(p.name for p in (Path(data_root) / "json_2.1.1").iterdir() if p.is_dir())
        raise EnvError(f"no split {split!r} under {Path(data_root) / 'json_2.1.1'}; splits there: {existing}")
    tasks = []
    for game in sorted(split_dir.glob("*/*/game.tw-pddl")):
        trial, folder = game.parent.name, game.parent.parent.name
        if any(m in folder for m in _SKIP_MARKERS):
            continue
        task_id = f"{folder}/{trial}"
        ttype = task_type_of(task_id)
        if task_types and ttype not in task_types:
            continue
        tasks.append(
            TaskSpec(env="alfworld", task_id=task_id, split=split, kwargs={"game_file": str(game), "task_type": ttype})
        )
    if not tasks:
        raise EnvError(f"no ALFWorld games (*/*/game.tw-pddl) under {split_dir}")
    return tasks


def normalize_action(action: str) -> str:
    return re.sub(r"\s+", " ", (action or "").strip().lower())


class _ExpertRandom(threading.local):
    """What alfworld's handcoded expert sees as its module `random`: the calling env's own seeded generator.

    The expert draws from the global `random` (`random.choice` among equally good objects, and a random
    admissible command when it repeats itself), so the same game gave different expert actions run to run.
    Each env sets its generator here, per thread, around every expert call; outside those calls this is `random`.
    """

    rng: random.Random | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rng or random, name)


_EXPERT_RANDOM = _ExpertRandom()


def _tolerant_expert(expert_type: str) -> Any:
    """alfworld's expert wrapper, except that an expert which loses track of the game reports no plan.

    The handcoded expert is a script that replays its own search; after actions it did not suggest (another
    policy's, or the game's walkthrough) it can raise (an IndexError from `random.choice([])`) inside
    `env.step`, after the step was applied. The step's result stands; the expert has no next action.
    Its random choices come from `self.rng`, which `AlfWorldEnv.seed` sets per episode.
    """
    from alfworld.agents.environment.alfred_tw_env import AlfredExpert
    from alfworld.agents.expert import handcoded_expert

    handcoded_expert.random = _EXPERT_RANDOM  # type: ignore[assignment] - the module's only source of randomness

    class TolerantAlfredExpert(AlfredExpert):
        rng = random.Random(0)

        def _gather_infos(self) -> None:
            _EXPERT_RANDOM.rng = self.rng
            try:
                super()._gather_infos()
            except Exception:  # noqa: BLE001 - any failure of the expert's script means "no plan", not a failed step
                self.state["extra.expert_plan"] = []
            finally:
                _EXPERT_RANDOM.rng = None

    return TolerantAlfredExpert(expert_type=expert_type)


@functools.lru_cache(maxsize=4096)
def _walkthrough(game_file: str) -> tuple[str, ...]:
    with open(game_file, encoding="utf-8") as f:
        return tuple(json.load(f).get("walkthrough") or ())


def walkthrough_of(game_file: str) -> list[str]:
    """The game's stored solution (the planner's, written when the game was built); [] when it has none."""
    return list(_walkthrough(str(Path(game_file).resolve())))


class AlfWorldEnv(TextEnv):
    """One ALFWorld game at a time, with admissible commands and the handcoded expert's next action."""

    name = "alfworld"

    def __init__(self, expert: str = "handcoded") -> None:
        if expert not in ("handcoded", "planner"):
            raise EnvError(f"expert must be 'handcoded' or 'planner', got {expert!r}")
        self.expert = expert
        self._env: Any = None
        self._expert: Any = None
        self._seed = 0
        self._state: Any = None
        self._game_file: str | None = None
        self.task_type: str | None = None

    def _start(self, game_file: str) -> None:
        import textworld
        from alfworld.agents.environment.alfred_tw_env import AlfredDemangler, AlfredExpertType, AlfredInfos

        if self._env is None:
            infos = textworld.EnvInfos(
                won=True, admissible_commands=True, feedback=True, extras=["gamefile", "expert_plan"]
            )
            expert_type = AlfredExpertType.HANDCODED if self.expert == "handcoded" else AlfredExpertType.PLANNER
            self._expert = _tolerant_expert(expert_type)
            self._env = textworld.start(
                game_file, request_infos=infos, wrappers=[AlfredDemangler(shuffle=False), AlfredInfos, self._expert]
            )
        else:
            self._env.load(game_file)
        self._game_file = game_file

    def seed(self, seed: int) -> None:
        """Seed the handcoded expert's random choices for the next `reset` (and the episode it starts)."""
        self._seed = int(seed)

    def reset(self, task: TaskSpec) -> ResetResult:
        game_file = task.kwargs.get("game_file")
        if not game_file or not Path(game_file).is_file():
            raise EnvError(f"ALFWorld task {task.task_id!r}: game file {game_file!r} not found")
        try:
            self._start(game_file)
            self._expert.rng = random.Random(self._seed)
            self._state = self._env.reset()
        except (OSError, ValueError, json.JSONDecodeError) as err:
            raise EnvError(f"cannot load ALFWorld game {game_file}: {err}") from err
        self.task_type = task.kwargs.get("task_type") or task_type_of(task.task_id)
        obs = self._clean(self._state.feedback)
        goal = next((ln.strip() for ln in obs.splitlines() if ln.strip().startswith("Your task is to:")), "")
        info = self._info() | {"state_kind": "observation", "walkthrough": walkthrough_of(game_file)}
        return ResetResult(observation=obs, task=goal, info=info)

    def step(self, action: str) -> StepResult:
        if self._env is None or self._state is None:
            raise EnvError("step() before reset()")
        cmd = normalize_action(action)
        admissible = set(self._state["admissible_commands"] or [])
        self._state, reward, done = self._env.step(cmd)
        obs = self._clean(self._state.feedback)
        won = bool(self._state["won"])
        valid = obs != INVALID_FEEDBACK
        info = self._info() | {"state_kind": "observation", "won": won, "action_admissible": cmd in admissible}
        return StepResult(
            observation=obs, reward=float(reward), done=bool(done or won), success=won, valid=valid, info=info
        )

    @property
    def admissible_actions(self) -> list[str] | None:
        if self._state is None:
            return None
        return [a for a in self._state["admissible_commands"] if a not in ("help",)]

    def _info(self) -> dict[str, Any]:
        plan = self._state.get("extra.expert_plan") or []
        return {
            "gamefile": self._game_file,
            "task_type": self.task_type,
            "admissible_commands": self.admissible_actions,
            "expert_action": plan[0] if plan else None,
        }

    @staticmethod
    def _clean(feedback: str) -> str:
        text = feedback.replace("-= Welcome to TextWorld, ALFRED! =-", "")
        return text.strip()

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
            self._env = None
