"""Build the bundled ALFWorld games: small scenes of our own, written as PDDL problems for alfworld's domain.

Each scene below is hand-written (receptacles, objects and where they lie, the task). This script turns
it into the standard layout alfworld's loaders read:

    json_2.1.1/<split>/<task_type>-<Object>-<Mrecep>-<Recep>-<scene>/<trial>/
        initial_state.pddl   the PDDL problem (our scene + the task's goal from alfworld's goal library)
        traj_data.json       task_id, task_type, pddl_params, turk_annotations (our own descriptions)
        game.tw-pddl         alfworld 0.4.2 domain + text grammar (with the task line) + the problem,
                             "solvable" and the handcoded expert's "walkthrough"

Rebuild with `python -m envs.alfworld_games.build_games` (deterministic; it fails if a game is not won
by the expert).
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
SMALL_RECEPTACLE_OBJECTS = {"Mug", "Bowl", "Cup", "Pan", "Pot", "Plate"}

# (split, scene number, task type, params, descriptions, receptacles {type: count}, objects [(type, recep type, idx)])
SCENES: list[dict[str, Any]] = [
    {
        "split": "train",
        "scene": 901,
        "trial": "trial_rwml_kitchen_heat",
        "task_type": "pick_heat_then_place_in_recep",
        "params": {"object_target": "Apple", "parent_target": "DiningTable"},
        "anns": ["Warm up the apple and set it on the dining table.", "Heat an apple, then put it on the table."],
        "receptacles": {"CounterTop": 1, "Fridge": 1, "Microwave": 1, "DiningTable": 1, "Cabinet": 2, "SinkBasin": 1},
        "objects": [
            ("Apple", "CounterTop", 1),
            ("Bread", "DiningTable", 1),
            ("Potato", "Fridge", 1),
            ("Egg", "Fridge", 1),
            ("Knife", "CounterTop", 1),
            ("Mug", "Cabinet", 2),
        ],
    },
    {
        "split": "train",
        "scene": 902,
        "trial": "trial_rwml_kitchen_cool",
        "task_type": "pick_cool_then_place_in_recep",
        "params": {"object_target": "Tomato", "parent_target": "CounterTop"},
        "anns": [
            "Chill a tomato and leave it on the counter.",
            "Cool the tomato in the fridge, put it on the counter.",
        ],
        "receptacles": {"CounterTop": 1, "Fridge": 1, "Microwave": 1, "StoveBurner": 2, "Cabinet": 1, "Drawer": 1},
        "objects": [
            ("Tomato", "StoveBurner", 2),
            ("Lettuce", "Fridge", 1),
            ("Spatula", "Drawer", 1),
            ("Bowl", "Cabinet", 1),
            ("SaltShaker", "CounterTop", 1),
        ],
    },
    {
        "split": "train",
        "scene": 903,
        "trial": "trial_rwml_bathroom_clean",
        "task_type": "pick_clean_then_place_in_recep",
        "params": {"object_target": "SoapBar", "parent_target": "CounterTop"},
        "anns": ["Rinse the bar of soap and put it on the counter.", "Clean a soap bar, then place it on the counter."],
        "receptacles": {"CounterTop": 1, "SinkBasin": 1, "Toilet": 1, "Cabinet": 2, "GarbageCan": 1, "TowelHolder": 1},
        "objects": [
            ("SoapBar", "Toilet", 1),
            ("SprayBottle", "Cabinet", 1),
            ("ToiletPaper", "CounterTop", 1),
            ("Towel", "TowelHolder", 1),
            ("Candle", "Cabinet", 2),
        ],
    },
    {
        "split": "valid_seen",
        "scene": 904,
        "trial": "trial_rwml_bedroom_light",
        "task_type": "look_at_obj_in_light",
        "params": {"object_target": "AlarmClock", "toggle_target": "DeskLamp"},
        "anns": ["Look at the alarm clock under the desk lamp.", "Examine the clock by the light of the lamp."],
        "receptacles": {"Desk": 1, "SideTable": 1, "Bed": 1, "Drawer": 2, "Shelf": 1},
        "objects": [
            ("AlarmClock", "Desk", 1),
            ("DeskLamp", "SideTable", 1),
            ("Book", "Bed", 1),
            ("Pillow", "Bed", 1),
            ("CellPhone", "Drawer", 2),
            ("Pen", "Shelf", 1),
        ],
    },
]

_coords = itertools.count(1)


def _mangle(kind: str) -> str:
    """A unique ALFRED-style instance name ("Apple|+01.00|+00.50|-01.00" as alfworld spells it in PDDL)."""
    n = next(_coords)
    x, y, z = n * 0.37 % 3, n * 0.11 % 2, -(n * 0.53 % 4)

    def fmt(v: float) -> str:
        sign = "plus" if v >= 0 else "minus"
        return f"_bar__{sign}_" + f"{abs(v):05.2f}".replace(".", "_dot_")

    if kind.endswith("Basin"):  # basins are parts of their sink/bathtub: "Sink|...|SinkBasin"
        return f"{kind[: -len('Basin')]}{fmt(x)}{fmt(y)}{fmt(z)}_bar_{kind}"
    return f"{kind}{fmt(x)}{fmt(y)}{fmt(z)}"


def build_problem(scene: dict[str, Any], name: str) -> str:
    from alfworld.gen import constants as C
    from alfworld.gen import goal_library

    recs: dict[tuple[str, int], str] = {}
    locs: dict[tuple[str, int], str] = {}
    for i, (rtype, count) in enumerate(scene["receptacles"].items()):
        for k in range(1, count + 1):
            recs[(rtype, k)] = _mangle(rtype)
            locs[(rtype, k)] = f"loc_bar_{i}_bar_{k}_bar_0_bar_30"
    objs = [(otype, _mangle(otype), (rtype, idx)) for otype, rtype, idx in scene["objects"]]
    start = "loc_bar_9_bar_9_bar_1_bar_45"

    objects = ["agent1 - agent"]
    objects += [f"{t}Type - otype" for t in sorted({o for o, _, _ in objs})]
    objects += [f"{t}Type - rtype" for t in sorted(scene["receptacles"])]
    objects += [f"{n} - object" for _, n, _ in objs]
    objects += [f"{n} - receptacle" for n in recs.values()]
    objects += [f"{loc} - location" for loc in sorted(set(locs.values()) | {start})]

    init = [f"(atLocation agent1 {start})"]
    for (rtype, k), r in recs.items():
        init.append(f"(receptacleType {r} {rtype}Type)")
        init.append(f"(receptacleAtLocation {r} {locs[(rtype, k)]})")
        if rtype in C.OPENABLE_CLASS_SET:
            init.append(f"(openable {r})")
    present = sorted({o for o, _, _ in objs})
    for rtype in scene["receptacles"]:
        for otype in present:
            if otype in C.VAL_RECEPTACLE_OBJECTS.get(rtype, ()):
                init.append(f"(canContain {rtype}Type {otype}Type)")
    actions = C.VAL_ACTION_OBJECTS
    for otype, n, where in objs:
        if where not in recs:
            raise ValueError(f"scene {scene['scene']}: {otype} placed in missing receptacle {where}")
        init += [
            f"(objectType {n} {otype}Type)",
            f"(inReceptacle {n} {recs[where]})",
            f"(objectAtLocation {n} {locs[where]})",
        ]
        if otype in actions["Toggleable"]:
            init.append(f"(toggleable {n})")
        else:
            init.append(f"(pickupable {n})")
        for prop, key in (("cleanable", "Cleanable"), ("heatable", "Heatable"), ("coolable", "Coolable")):
            if otype in actions[key]:
                init.append(f"({prop} {n})")
        if otype in SMALL_RECEPTACLE_OBJECTS:
            init.append(f"(isReceptacleObject {n})")

    p = _params(scene)
    goal = goal_library.gdict[scene["task_type"]]["pddl"].replace("#", "-")
    goal = goal.format(
        obj=p["object_target"], recep=p["parent_target"], toggle=p["toggle_target"], mrecep=p["mrecep_target"]
    )
    body = "\n        ".join(objects)
    facts = "\n        ".join(init)
    header = f"\n(define (problem {name})\n(:domain alfred)\n"
    return f"{header}(:objects\n{body}\n        )\n(:init\n        {facts}\n        )\n{goal}"


def _params(scene: dict[str, Any]) -> dict[str, Any]:
    base = {"mrecep_target": "", "object_sliced": False, "object_target": "", "parent_target": "", "toggle_target": ""}
    return base | scene["params"]


def solve(game_file: Path) -> list[str]:
    """Play the game with alfworld's handcoded expert; return the winning actions."""
    from envs.alfworld_env import AlfWorldEnv
    from envs.base import TaskSpec

    env = AlfWorldEnv()
    try:
        res = env.reset(TaskSpec("alfworld", "build", "build", {"game_file": str(game_file)}))
        info, walkthrough = res.info, []
        for _ in range(60):
            action = info["expert_action"]
            step = env.step(action)
            walkthrough.append(action)
            info = step.info
            if step.success:
                return walkthrough
    finally:
        env.close()
    raise RuntimeError(f"the handcoded expert does not win {game_file}")


def build_all(root: Path = ROOT) -> list[Path]:
    import alfworld.info
    from alfworld.agents.utils.misc import add_task_to_grammar

    domain = Path(alfworld.info.ALFRED_PDDL_PATH).read_text()
    grammar = Path(alfworld.info.ALFRED_TWL2_PATH).read_text()
    built = []
    for scene in SCENES:
        p = _params(scene)
        folder = "-".join(
            [
                scene["task_type"],
                p["object_target"],
                p["mrecep_target"] or "None",
                p["parent_target"] or p["toggle_target"],
                str(scene["scene"]),
            ]
        )
        out = root / "json_2.1.1" / scene["split"] / folder / scene["trial"]
        out.mkdir(parents=True, exist_ok=True)
        traj = {
            "task_id": scene["trial"],
            "task_type": scene["task_type"],
            "pddl_params": p,
            "turk_annotations": {"anns": [{"task_desc": a} for a in scene["anns"]]},
        }
        problem = build_problem(scene, f"plan_{scene['trial']}")
        (out / "initial_state.pddl").write_text(problem)
        (out / "traj_data.json").write_text(json.dumps(traj, indent=1) + "\n")
        game = {
            "pddl_domain": domain,
            "grammar": add_task_to_grammar(grammar, traj, rng=random.Random(0)),
            "pddl_problem": problem,
            "solvable": False,
            "walkthrough": [],
        }
        game_file = out / "game.tw-pddl"
        game_file.write_text(json.dumps(game))
        game["walkthrough"] = solve(game_file)
        game["solvable"] = True
        game_file.write_text(json.dumps(game))
        built.append(game_file)
        print(f"{game_file.relative_to(root)}: expert wins in {len(game['walkthrough'])} steps")
    return built


if __name__ == "__main__":
    build_all()
