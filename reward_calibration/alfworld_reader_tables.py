"""The README's tables of the ALFWorld state reader, written from the result files in `results/`.

Two tables: the paraphrase families per set (old fact reader, the state reader's first score of the set, the
reader of this commit) and the adversarial corpus (old reader, this reader, whether the reason names the attack).
Every number comes from a JSON file the family and attack CLIs wrote:

    python -m reward_calibration.alfworld_reader_tables            # prints both tables as markdown
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
ATTACKS = "all-MiniLM-L6-v2_alfworld_valid_seen_attacks{}.json"
# (title, set, label of the old reader's score, of the first score, of this commit's reader); None: not scored ("--")
FAMILY_SETS = (
    ("dev (developed on)", "dev", "before", None, "after"),
    ("held-out 1 (scored once, then developed on)", "heldout", "before", "after", "after_posthoc"),
    ("held-out 2 (scored once, then developed on)", "heldout2", "before", "after", "after_posthoc"),
    ("held-out 3 (scored once, then developed on)", "heldout3", "before", "after", "after_posthoc"),
    ("held-out 4 (scored once, then developed on)", "heldout4", "before", "after", "after_posthoc"),
    ("held-out 5 (scored once, then developed on)", "heldout5", None, "after", "after_posthoc"),
    ("held-out 6 (scored once, then developed on)", "heldout6", None, "after", "after_posthoc"),
    ("held-out 7 (scored once, then developed on)", "heldout7", None, "after", "after_posthoc"),
    ("held-out 8 (scored once, then developed on)", "heldout8", None, "after", "after_posthoc"),
    ("held-out 9 (scored once, then developed on)", "heldout9", None, "after", "after_posthoc"),
    ("held-out 10 (scored once, then developed on)", "heldout10", None, "after", "after_posthoc"),
)


def _load(name: str, folder: Path) -> dict[str, Any]:
    return json.loads((folder / name).read_text())


def _share(result: dict[str, Any] | None, family: str) -> str:
    if result is None:
        return "--"
    row = result["overall"] if family == "overall" else result["families"].get(family)
    return "--" if row is None else f"{row['accepted_share']:.3f}"


def families_table(folder: Path = RESULTS) -> str:
    lines = [
        "| family set | family | n | old fact reader | state reader, first score | state reader, this commit |",
        "|---|---|---|---|---|---|",
    ]
    for title, name, old, first, now in FAMILY_SETS:
        results = {
            label: _load(f"alfworld_families_{name}_{label}.json", folder) for label in {old, first, now} - {None}
        }
        families = [f for f in results[now]["families"] if f != "exact"]
        for i, family in enumerate([*families, "overall"]):
            n = (results[now]["overall"] if family == "overall" else results[now]["families"][family])["n"]
            cells = [_share(results.get(old), family), _share(results.get(first), family), _share(results[now], family)]
            label = f"**{family}**" if family == "overall" else family
            lines.append(f"| {title if i == 0 else ''} | {label} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def attacks_table(folder: Path = RESULTS) -> str:
    now = _load(ATTACKS.format(""), folder)["classes"]
    old = _load(ATTACKS.format("_before"), folder)["classes"]
    lines = [
        "| attack | n | rejected, old fact reader | rejected, state reader | reason names it |",
        "|---|---|---|---|---|",
    ]
    for kind, row in now.items():
        before = f"{old[kind]['share_rejected']:.3f}" if kind in old else "--"
        named = row["reason_named"] / row["n"]
        lines.append(f"| {kind} | {row['n']} | {before} | {row['share_rejected']:.3f} | {named:.3f} |")
    return "\n".join(lines)


def main() -> None:
    print(families_table(), end="\n\n")
    print(attacks_table())


if __name__ == "__main__":
    main()
