"""Command line of the schedule: `python -m recipe.rwml.schedule --plan NAME [--dry-run] [--from S] [--until S]`.

scripts/run_<NAME>.sh starts it with `--plan NAME --script <its own path>` (the path printed in the usage and the
header). Errors print one line, `error: <what>, <where>, <what to do>` (data_prep/cli_errors.py), and exit with
status 2; a failed command's status is the schedule's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from data_prep.cli_errors import run_cli
from recipe.rwml.schedule.runner import CommandFailed, run_schedule
from recipe.rwml.schedule.schedules import SCHEDULES, Schedule
from recipe.rwml.schedule.settings import REPO, ScheduleError, resolve_settings

USAGE = """usage: bash {script} [--dry-run] [--from STAGE] [--until STAGE] [--help]

  --dry-run      print the plan and every command (resolved), run nothing; needs no GPU, model or data
  --from STAGE   rerun STAGE and all later stages even when their outputs exist (old outputs are moved aside)
  --until STAGE  stop after STAGE

stages of this schedule: {stages}
settings are environment variables (printed at start); extra hydra overrides per stage:
  RWML_OVERRIDES, SFT_OVERRIDES, WARMUP_OVERRIDES, POLICY_OVERRIDES (whitespace-separated key=value items)"""


@dataclass
class Options:
    schedule: Schedule
    script: str
    dry_run: bool = False
    start: str = ""
    until: str = ""
    help: bool = False


def parse(argv: Sequence[str]) -> Options:
    """`--plan NAME [--script PATH]` first, then the user's flags (as scripts/run_*.sh pass them on)."""
    args = list(argv)
    name = script = ""
    while args[:1] in (["--plan"], ["--script"]) and len(args) > 1:
        flag, value = args.pop(0), args.pop(0)
        name, script = (value, script) if flag == "--plan" else (name, value)
    if name not in SCHEDULES:
        flags = "[--script PATH] [--dry-run] [--from STAGE] [--until STAGE] [--help]"
        print(
            f"usage: python -m recipe.rwml.schedule --plan NAME {flags}; NAME: {' '.join(SCHEDULES)}", file=sys.stderr
        )
        raise ScheduleError(f"unknown schedule '{name}'" if name else "no schedule named (--plan NAME)")
    schedule = SCHEDULES[name]
    options = Options(schedule, script or schedule.script)
    usage = USAGE.format(script=options.script, stages=" ".join(schedule.plan))
    while args:
        arg = args.pop(0)
        if arg == "--dry-run":
            options.dry_run = True
        elif arg in ("--from", "--until"):
            if not args or args[0].startswith("-"):
                raise ScheduleError(
                    f"{arg} needs a stage", f"flag {arg}", f"name one of this schedule's: {' '.join(schedule.plan)}"
                )
            setattr(options, "start" if arg == "--from" else "until", args.pop(0))
        elif arg.startswith(("--from=", "--until=")):
            flag, _, value = arg.partition("=")
            setattr(options, "start" if flag == "--from" else "until", value)
        elif arg in ("-h", "--help"):
            print(usage)
            options.help = True
            return options
        else:
            print(usage, file=sys.stderr)
            raise ScheduleError(
                f"unknown argument '{arg}' (hydra overrides go in RWML_OVERRIDES / SFT_OVERRIDES / POLICY_OVERRIDES)"
            )
    for stage in (options.start, options.until):
        if stage and stage not in schedule.plan:
            raise ScheduleError(f"unknown stage '{stage}'; stages of this schedule: {' '.join(schedule.plan)}")
    if options.start and options.until and schedule.plan.index(options.until) < schedule.plan.index(options.start):
        raise ScheduleError(
            f"empty range: --until {options.until} comes before --from {options.start} in this schedule",
            f"flags --from {options.start} --until {options.until}",
            f"swap them; the order is {' '.join(schedule.plan)}",
        )
    return options


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # printed lines stay in order with the commands' own output
    environ = os.environ if environ is None else environ
    try:
        options = parse(sys.argv[1:] if argv is None else argv)
        if options.help:
            return 0
        settings = resolve_settings(options.schedule.environment(environ, REPO), REPO)
        os.chdir(REPO)
        return run_schedule(
            options.schedule.stages, settings, options.script, options.dry_run, options.start, options.until, environ
        )
    except CommandFailed as exc:
        return exc.returncode
    except BrokenPipeError:  # stdout closed early (`| head`): quiet, as a shell script killed by SIGPIPE
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(run_cli(main))
