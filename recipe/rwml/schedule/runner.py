"""Runs a schedule: prints the settings and the plan, checks it, then runs each stage's steps and marks it done.

Every command is printed first (`+ ...`, shell-quoted); `--dry-run` prints and runs nothing (the config checks still
compose and check every stage config, before the first stage, as a real run does). With `--from`, a stage's earlier
outputs are moved aside to `<path>.bak-<time>`, markers too, never deleted.
A command that fails stops the schedule with its exit status; the server a stage started is stopped in any case.

Stop means stop: each command runs under `guard.py`, in a session of its own. SIGTERM, SIGINT or SIGHUP to the
schedule stops the running command's whole session (its workers, torchrun's ranks, Ray's processes), waits, kills
what is left, stops the server and exits 128 + the signal; the schedule killed with `kill -9` takes the command's
session with it (the guard gets SIGTERM when its parent dies). A rerun then finds nothing of the old run writing.
One schedule per run: a real run holds a lock beside DATA_DIR and CKPT_DIR; a second one is refused, naming the first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from omegaconf import DictConfig

from data_prep.output_lock import OutputLock
from recipe.rwml.schedule.guard import DEFAULT_GRACE_S, GRACE_ENV, stop_guarded
from recipe.rwml.schedule.markers import write_marker
from recipe.rwml.schedule.plan import Plan, make_plan
from recipe.rwml.schedule.preflight import config_problems, endpoint_problems, gpu_problems
from recipe.rwml.schedule.server import ModelServer
from recipe.rwml.schedule.settings import PRINTED, ScheduleError, Settings
from recipe.rwml.schedule.stages import Stage, done_marker
from recipe.rwml.schedule.steps import Command, ConfigCheck, Logged, MakeDir, Serve, Step, StopServer, shell_quote
from recipe.rwml.train_curves import plot_log

GUARD = Path(__file__).with_name("guard.py")


class Stopped(Exception):
    """The schedule got a stop signal; the exit status is 128 + the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class CommandFailed(Exception):
    """A stage's command failed; the schedule exits with its status."""

    def __init__(self, returncode: int) -> None:
        super().__init__(returncode)
        self.returncode = returncode


def exit_status(returncode: int) -> int:
    """A child's exit status as a shell reports it (128 + N for a child killed by signal N)."""
    return 128 - returncode if returncode < 0 else returncode


def process_env(s: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment every command runs in: Ray workers import the repo's packages; the CPU backend's plugin."""
    env = dict(environ)
    env["PYTHONPATH"] = s.repo + (f":{env['PYTHONPATH']}" if env.get("PYTHONPATH") else "")
    env.update(LITELLM_LOCAL_MODEL_COST_MAP="True", TOKENIZERS_PARALLELISM="false")
    if s.cpu:  # verl's CPU backend, in every process verl starts: Ray workers, torchrun ranks (recipe/rwml/cpu/)
        from recipe.rwml.cpu.checks import CPU_ENV  # imports verl: only here, as the config checks do
        from recipe.rwml.cpu.precision import export_to_workers

        env.update(CPU_ENV)
        if precision := export_to_workers(env):  # one dtype and thread count for every stage (a bad value: the
            print(precision.line())  # config checks name it)
    return env


def settings_lines(s: Settings, script: str, dry_run: bool) -> list[str]:
    header = f"RWML schedule {script} (run {s['RUN_NAME']}, ENV={s['ENV']}){', dry run' if dry_run else ''}"

    def shown(name: str) -> str:  # an override list on one line, as the commands get it
        return " ".join(s[name].split()) if name.endswith("_OVERRIDES") else s[name]

    return [header, "settings (environment variables):", *(f"  {name:<26} {shown(name)}" for name in PRINTED)]


class Runner:
    """Prints and (unless dry_run) runs steps; holds the one model server a stage may have started."""

    def __init__(
        self, s: Settings, dry_run: bool, env: Mapping[str, str], configs: Mapping[tuple[str, ...], DictConfig]
    ) -> None:
        self.s, self.dry_run, self.env, self.configs = s, dry_run, dict(env), configs
        self.server: ModelServer | None = None
        self.serving = False
        self.running: subprocess.Popen | None = None  # the guard of the command that runs now

    def echo(self, argv: Sequence[str]) -> None:
        print("+ " + shell_quote(list(argv)))

    def call(self, argv: Sequence[str], env: Mapping[str, str] | None = None, **kwargs: object) -> subprocess.Popen:
        """Start `argv` under the guard, in a session of its own (`stop_running` ends all of it)."""
        guarded = [sys.executable, str(GUARD), "--", *argv]
        try:
            self.running = subprocess.Popen(
                guarded, env=dict(self.env if env is None else env), start_new_session=True, **kwargs
            )
        except OSError as exc:
            print(f"{argv[0]}: {exc.strerror}", file=sys.stderr)
            raise CommandFailed(127) from None
        return self.running

    def stop_running(self) -> None:
        """Stop the running command's session: the guard's own stop first, then, if it is stuck, from here."""
        guard, self.running = self.running, None
        if guard is None or guard.poll() is not None:
            return
        print(f"stopping the running command (session {guard.pid})", file=sys.stderr, flush=True)
        stop_guarded(guard, float(self.env.get(GRACE_ENV) or DEFAULT_GRACE_S))

    def step(self, step: Step) -> None:
        if isinstance(step, Command):
            self.echo(step.argv)
            if not self.dry_run and (rc := exit_status(self.call(step.argv).wait())):
                raise CommandFailed(rc)
        elif isinstance(step, Logged):
            self.logged(step)
        elif isinstance(step, ConfigCheck):
            self.check_config(step)
        elif isinstance(step, Serve):
            self.start_server(step)
        elif isinstance(step, StopServer):
            self.stop_server()
        elif isinstance(step, MakeDir) and not self.dry_run:
            os.makedirs(step.path, exist_ok=True)

    def logged(self, step: Logged) -> None:
        """Run a training stage with its console output also appended to $CKPT_DIR/logs/<log>.log (a resumed stage
        adds to it), its TensorBoard events in $CKPT_DIR/logs/tensorboard/<log>, and its curves drawn into
        $CKPT_DIR/logs/<log>.png when it stops (failed or not)."""
        log = Path(f"{self.s['CKPT_DIR']}/logs/{step.log}.log")
        tensorboard = log.parent / "tensorboard" / step.log
        self.echo([f"TENSORBOARD_DIR={tensorboard}", *step.argv, f"2>&1 | tee -a {log}"])
        if self.dry_run:
            return
        log.parent.mkdir(parents=True, exist_ok=True)
        env = {**self.env, "TENSORBOARD_DIR": str(tensorboard)}
        process = self.call(step.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        try:
            with log.open("ab") as out, process.stdout:
                while chunk := os.read(process.stdout.fileno(), 65536):  # as it comes: progress bars, live metrics
                    sys.stdout.buffer.write(chunk)
                    sys.stdout.buffer.flush()
                    out.write(chunk)
                    out.flush()
            rc = exit_status(process.wait())
        finally:
            if png := plot_log(log):
                print(f"curves: {png}; tensorboard: {tensorboard}", flush=True)
        if rc:
            raise CommandFailed(rc)

    def check_config(self, step: ConfigCheck) -> None:
        """Print the key values of the stage config the preflight composed and checked (recipe/rwml/config_checks.py):
        a typo in an override stopped the schedule there, before the first stage, not an hour into the run."""
        from recipe.rwml.compose import summary_lines

        what = f"python -m recipe.rwml.compose --config-name {step.config} + the overrides below"
        print(f"  config check ({what}): composed values")
        print("\n".join(summary_lines(self.configs[(step.config, *step.overrides)])))

    def start_server(self, step: Serve) -> None:
        self.echo([*step.argv, "&"])
        self.serving = True
        if self.dry_run:
            return
        try:
            timeout_s = int(self.s["SERVER_START_TIMEOUT"])
        except ValueError:
            raise ScheduleError(f"SERVER_START_TIMEOUT={self.s['SERVER_START_TIMEOUT']}: expected seconds") from None
        log = Path(f"{self.s['CKPT_DIR']}/logs/server-{step.name}-{time.strftime('%Y%m%d-%H%M%S')}.log")
        self.server = ModelServer(step, self.s.server_url, log, self.env)
        self.server.start(timeout_s)

    def stop_server(self) -> None:
        if self.dry_run and self.serving:
            print("+ kill <server>")
        self.serving = False
        if self.server is not None:
            self.server.stop()
            self.server = None

    def move_aside(self, stage: Stage) -> None:
        """An earlier output of a forced stage goes to <path>.bak-<time>, with its marker."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for out in stage.outputs(self.s):
            for path in (out, stage.marker_path(self.s) if out == stage.output(self.s) else done_marker(out)):
                if os.path.exists(path):
                    print("+ " + shell_quote(["mv", path, f"{path}.bak-{stamp}"]))
                    if not self.dry_run:
                        os.rename(path, f"{path}.bak-{stamp}")

    def run_stage(self, stage: Stage, forced: bool) -> None:
        if forced:
            self.move_aside(stage)
        if not self.dry_run:
            for path in stage.inputs(self.s):
                if not os.path.exists(path):
                    raise ScheduleError(f"stage {stage.name}: input {path} is missing (did the previous stage fail?)")
        for step in stage.steps(self.s):
            self.step(step)
        marker = stage.marker_path(self.s)
        if self.dry_run:
            print(f"+ record {shell_quote([marker])} (the stage's commands and inputs)")
        else:
            write_marker(stage, self.s)


def report(problems: list[str], dry_run: bool) -> None:
    """What a real run needs: listed by a dry run, the end of a real one."""
    if not problems:
        return
    if dry_run:
        print("a real run would stop here; it needs:")
        print("\n".join(f"  {p}" for p in problems))
        return
    print("\n".join(f"  {p}" for p in problems), file=sys.stderr)
    raise ScheduleError("this machine or these settings cannot run the schedule (see above); nothing was run")


def run_schedule(
    stages: Sequence[Stage],
    s: Settings,
    script: str,
    dry_run: bool = False,
    start: str = "",
    until: str = "",
    environ: Mapping[str, str] | None = None,
) -> int:
    """The whole schedule; returns the exit status (ScheduleError / CommandFailed stop it). Runs in the repo root:
    the commands name scripts/*.py by their path there."""
    env = process_env(s, os.environ if environ is None else environ)
    print("\n".join(settings_lines(s, script, dry_run)))
    plan = make_plan(stages, s, start, until)
    print("plan:")
    print("\n".join(p.line for p in plan.stages))
    if plan.missing:
        print("\n".join(f"  {m}" for m in plan.missing), file=sys.stderr)
        raise ScheduleError("missing inputs; nothing was run")
    if plan.changed:
        print("\n".join(f"  {c}" for c in plan.changed), file=sys.stderr)
        raise ScheduleError("done stages were made with other settings or inputs (above); nothing was run")
    bad_config, configs = config_problems(plan.to_run, s, env, check_endpoints=not dry_run)
    if bad_config:
        for line in bad_config[:-1]:  # one line per problem; the last is the schedule's error
            print(line, file=sys.stderr)
        raise ScheduleError(bad_config[-1].removeprefix("error: "))
    problems = list(plan.needs)
    if not dry_run:
        problems += gpu_problems(s) if plan.gpu else []
        problems += endpoint_problems(plan.to_run, s)
    report(problems, dry_run)
    if not plan.to_run:
        print("nothing to run: every stage is done (use --from STAGE to rerun)")
        return 0

    locks = []
    try:
        if not dry_run:  # one schedule per run: a second one on the same outputs is refused, naming this one
            for folder in dict.fromkeys(os.path.realpath(s[name]) for name in ("DATA_DIR", "CKPT_DIR")):
                locks.append(OutputLock(folder))
        return _run_stages(plan, s, dry_run, start, env, configs)
    finally:
        for lock in locks:
            lock.release()


def _run_stages(plan: Plan, s: Settings, dry_run: bool, start: str, env: dict[str, str], configs: Mapping) -> int:
    runner = Runner(s, dry_run, env, configs)

    def stop(signum: int, frame: object) -> None:
        raise Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        for i, stage in enumerate(plan.to_run, 1):
            print(f"\n== stage {stage.name} ({i}/{len(plan.to_run)}, {time.strftime('%H:%M:%S')})")
            runner.run_stage(stage, forced=bool(start))
    except Stopped as exc:
        for sig in previous:  # a second signal while stopping does not cut the stop short
            signal.signal(sig, signal.SIG_IGN)
        print(f"\nstopped by signal {exc.signum}; the stage in progress is not marked done", file=sys.stderr)
        runner.stop_running()
        return 128 + exc.signum
    finally:
        runner.stop_server()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print()
    if dry_run:
        print("dry run: nothing was run")
        return 0
    print(f"schedule finished; outputs in {s['DATA_DIR']} and {s['CKPT_DIR']}")
    curves = sorted(Path(s["CKPT_DIR"], "logs").glob("*.png"))
    if curves:
        print(f"training curves: {', '.join(map(str, curves))}")
        print(f"tensorboard --logdir {Path(s['CKPT_DIR'], 'logs', 'tensorboard')}")
    logs = [f"{name}={s['CKPT_DIR']}/logs/{name}.log" for name in ("rwml", "policy")]
    logs = [log for log in logs if os.path.isfile(log.split("=", 1)[1])]
    if not logs:
        return 0
    print()
    return exit_status(runner.call([s["PYTHON"], "-m", "recipe.rwml.train_log", *logs]).wait())
