"""The plan: every stage of a schedule decided first (run, skip or off), then its inputs and settings checked.

A stage runs unless it is switched off by the settings, lies outside --from/--until, or is done (its outputs and its
marker, `<output>.done` by default, exist). An input must exist or come from a stage that runs earlier in this plan;
a missing one is reported with the stage that makes it. A done stage whose recorded commands or inputs differ from
this run's (markers.py) is reported too: the schedule stops rather than build on an output made with other settings.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from recipe.rwml.schedule.markers import changes
from recipe.rwml.schedule.settings import Settings
from recipe.rwml.schedule.stages import Stage


@dataclass(frozen=True)
class Planned:
    stage: Stage
    status: str  # run | run (forced by --from X) | skip (...) | off
    output: str  # the output that carries the done marker

    @property
    def runs(self) -> bool:
        return self.status.startswith("run")

    @property
    def line(self) -> str:
        return f"  {self.stage.name:<15} {self.status:<45} -> {self.output}"


@dataclass
class Plan:
    stages: list[Planned]
    missing: list[str] = field(default_factory=list)  # inputs no earlier stage of this run makes
    changed: list[str] = field(default_factory=list)  # done stages whose settings or inputs changed since
    needs: list[str] = field(default_factory=list)  # what a real run needs that the settings lack
    gpu: bool = False  # a stage that runs needs NVIDIA GPUs

    @property
    def to_run(self) -> list[Stage]:
        return [p.stage for p in self.stages if p.runs]

    @property
    def status(self) -> dict[str, str]:
        return {p.stage.name: p.status for p in self.stages}


def is_done(stage: Stage, s: Settings) -> bool:
    """Its marker and every one of its outputs exist (an output deleted since makes the stage run again, so the
    hint for a missing input -- rerun without --from/--until -- does remake it)."""
    return os.path.exists(stage.marker_path(s)) and all(os.path.exists(out) for out in stage.outputs(s))


def _status(stage: Stage, s: Settings, start: str, until: str, forced: bool, past_until: bool) -> str:
    if past_until:
        return f"skip (after --until {until})"
    if not stage.enabled(s):
        return "off"
    if start and not forced:
        return f"skip (before --from {start})"
    if forced:
        return f"run (forced by --from {start})"
    if is_done(stage, s):
        return f"skip (done: {stage.marker_path(s)} exists)"
    return "run"


def producer(path: str, stages: Sequence[Stage], s: Settings) -> str:
    """The stage that writes exactly `path`, else the first one whose output folder holds it; '' if none."""
    within = ""
    for stage in stages:
        for out in stage.outputs(s):
            if path == out:
                return stage.name
            if not within and path.startswith(out + "/"):
                within = stage.name
    return within


def missing_input(stage: str, path: str, maker: str) -> str:
    hint = f" (stage {maker} makes it: rerun without --from/--until, or --from {maker})" if maker else ""
    return f"stage {stage} needs {path}, which is missing{hint}"


def platform_needs(s: Settings) -> list[str]:
    """What PLATFORM=cpu cannot run."""
    if not s.cpu:
        return []
    needs = []
    if s["ENV"] != "alfworld":
        tool_calls = "needs tool calling, which the CPU server lacks (use vLLM: make smoke-vllm)"
        needs.append(f"PLATFORM=cpu: ENV={s['ENV']} {tool_calls}")
    return needs


def make_plan(stages: Sequence[Stage], s: Settings, start: str = "", until: str = "") -> Plan:
    """Decide every stage, then check each running stage's inputs (exist, or made earlier in this run) and needs."""
    plan = Plan([])
    promised: list[str] = []
    forced = past_until = False
    for stage in stages:
        forced = forced or stage.name == start
        planned = Planned(stage, _status(stage, s, start, until, forced, past_until), stage.output(s))
        past_until = past_until or stage.name == until
        plan.stages.append(planned)
        if planned.status.startswith("skip (done"):
            plan.changed += [
                f"stage {stage.name} is done with other settings or inputs: {change}; to redo it with these, rerun "
                f"with --from {stage.name} (its output is moved aside), else rerun with the settings it was made with"
                for change in changes(stage, s)
            ]
        if not planned.runs:
            continue
        for path in stage.inputs(s):
            if os.path.exists(path) or any(path == o or path.startswith(o + "/") for o in promised):
                continue
            plan.missing.append(missing_input(stage.name, path, producer(path, stages, s)))
        plan.needs += [f"stage {stage.name} needs {need}" for need in stage.needs(s)]
        plan.gpu = plan.gpu or stage.gpu(s)
        promised += stage.outputs(s)
    plan.needs += platform_needs(s)
    plan.gpu = plan.gpu and not s.cpu
    return plan
