"""`make learn-check`: the learnability checks through verl's real trainer on CPU, with their curves.

    python -m recipe.rwml.learn_check [--out DIR] [--checks NAME ...] [--seed S]

Checks: `stage1` (GRPO on the sim-to-real reward, and on 1 minus it: recipe/rwml/learn_check/stage1.py) and
`stage2-windowed`, `stage2-multi_turn` (task-success GRPO through the env agent loop in the toy button room:
stage2.py). For each: the curve per step as a table, a PNG (`DIR/<check>.png`), and one closing line
    learn-check <name>: reward <first-k mean> -> <last-k mean> over <N> steps (inverted: <a> -> <b>)
where "reward" is the project's reward (stage 1) or the success rate (stage 2), and the inverted figures are the
project's reward while GRPO is trained on 1 minus it (stage 2 has no inverted run: "inverted: not run"). The exit
status is 1 when a check did not learn: the reward did not rise by the check's margin, or did not fall when inverted.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from data_prep.cli_errors import ArgumentParser, run_cli
from recipe.rwml.learn_check.curves import CheckResult, plot, table

CHECKS = ("stage1", "stage2-windowed", "stage2-multi_turn")


def run_checks(names: list[str], out: Path, seed: int) -> list[CheckResult]:
    """The checks of `names`, in that order; the stage-2 ones from one warmed-up model."""
    results = {}
    if "stage1" in names:
        from recipe.rwml.learn_check import stage1

        results["stage1"] = stage1.check(out / "stage1", seed=seed)
    contexts = tuple(name.split("-", 1)[1] for name in names if name.startswith("stage2-"))
    if contexts:
        from recipe.rwml.learn_check import stage2

        results.update({r.name: r for r in stage2.checks(out, contexts=contexts, seed=seed).values()})
    return [results[name] for name in names]


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="where data, runs and PNGs go (default: a temp dir)")
    parser.add_argument("--checks", nargs="+", choices=CHECKS, default=list(CHECKS), help="which checks to run")
    parser.add_argument("--seed", type=int, default=0, help="data, warm-up, sampling and data-order seed")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="learn_check_"))
    out.mkdir(parents=True, exist_ok=True)
    results = run_checks(list(dict.fromkeys(args.checks)), out, args.seed)
    for result in results:
        print(f"\n{result.name}: {result.what} per GRPO step")
        print(table(result.curves()))
        print(f"curves: {plot(result, out / f'{result.name}.png')}")
    print()
    for result in results:
        print(result.line())
    return 0 if all(r.learned() for r in results) else 1


if __name__ == "__main__":
    sys.exit(run_cli(main))
