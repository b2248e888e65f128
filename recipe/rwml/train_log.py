"""Read verl's console training log (`step:N - key:value - ...` lines) and summarise a run's stages as a table.

    python -m recipe.rwml.train_log rwml=ckpt/logs/rwml.log policy=ckpt/logs/policy.log

prints, per stage: steps run, seconds per step (mean, and without the first step, which warms up), the mean reward
of the first and last step, and the latest checkpoint written.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from data_prep.cli_errors import ArgumentParser, run_cli

STEP_LINE = re.compile(r"step:(\d+) - (.*)$")
CKPT_LINE = re.compile(r"Saving checkpoint to (\S+)")
_NUMPY_SCALAR = re.compile(r"^np\.\w+\((.*)\)$")


def parse_steps(text: str) -> dict[int, dict[str, float]]:
    """{step: {metric: value}} for every numeric metric verl's console logger printed."""
    steps: dict[int, dict[str, float]] = {}
    for line in text.splitlines():
        match = STEP_LINE.search(line)
        if not match:
            continue
        metrics: dict[str, float] = {}
        for item in match.group(2).split(" - "):
            key, _, value = item.partition(":")
            try:
                metrics[key.strip()] = float(_NUMPY_SCALAR.sub(r"\1", value.strip()))
            except ValueError:
                continue
        steps[int(match.group(1))] = metrics
    return steps


def stage_row(name: str, log: Path) -> dict[str, str]:
    text = log.read_text(errors="replace") if log.is_file() else ""
    steps = parse_steps(text)
    checkpoints = CKPT_LINE.findall(text)
    row = {
        "stage": name,
        "steps": str(len(steps)),
        "s/step": "-",
        "s/step after 1st": "-",
        "reward first -> last": "-",
        "checkpoint": checkpoints[-1] if checkpoints else "-",
    }
    if steps:
        order = sorted(steps)
        times = [steps[s].get("timing_s/step", float("nan")) for s in order]
        row["s/step"] = f"{sum(times) / len(times):.1f}"
        if len(times) > 1:
            row["s/step after 1st"] = f"{sum(times[1:]) / len(times[1:]):.1f}"
        first, last = steps[order[0]], steps[order[-1]]
        row["reward first -> last"] = (
            f"{first.get('critic/score/mean', float('nan')):.3f} -> {last.get('critic/score/mean', float('nan')):.3f}"
        )
    return row


def table(rows: list[dict[str, str]]) -> str:
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in keys}
    lines = ["  ".join(k.ljust(widths[k]) for k in keys), "  ".join("-" * widths[k] for k in keys)]
    lines += ["  ".join(r[k].ljust(widths[k]) for k in keys) for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stages", nargs="+", metavar="NAME=LOG", help="a stage name and its console log")
    args = parser.parse_args(argv)
    rows = []
    for item in args.stages:
        name, sep, path = item.partition("=")
        if not sep:
            parser.error(f"expected NAME=LOG, got {item!r}")
        rows.append(stage_row(name, Path(path)))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
