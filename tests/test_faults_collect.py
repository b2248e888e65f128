"""Fault corpus, area "collect": collection under bad flags, bad episode files, changed settings, faults and kill -9.

ATTACKS is the table: each named attack -> the substring its one error line must hold (exit status 2, no
traceback), or OK for a run that must succeed. Bad input files are in tests/fault_corpus/collect/. Flag and file
attacks run `collect_trajectories` in this process on the bundled games (`run_cli(main)`, what `python -m` runs);
faults that need a real process (a file-size limit, RAY_ADDRESS, Ray itself, kill -9) run it as a subprocess.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from data_prep.cli_errors import run_cli
from data_prep.collect_trajectories import KNOWN_ERRORS
from data_prep.collect_trajectories import main as collect_main
from tests.conftest import REPO_ROOT

CORPUS = REPO_ROOT / "tests" / "fault_corpus" / "collect"
OK = "<runs and keeps every valid episode>"
BASE = ["--env", "alfworld", "--data-root", "bundled", "--split", "train", "--policy", "expert"]
SMALL = ["--max-tasks", "1", "--max-steps", "2", "--workers", "0"]


@dataclass
class Outcome:
    rc: int
    err: str
    out: Path


def collect(out: Path, *flags: str, base: tuple[str, ...] = (*BASE, *SMALL)) -> Outcome:
    """Run the command in this process as `python -m data_prep.collect_trajectories` does."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = run_cli(collect_main, [*base, *flags, "--out", str(out)], known=KNOWN_ERRORS)
        except SystemExit as exit_:  # argparse
            rc = int(exit_.code or 0)
    return Outcome(rc, err.getvalue(), out)


def collect_process(out: Path, *flags: str, env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "data_prep.collect_trajectories", *flags, "--out", str(out)]
    return subprocess.Popen(
        cmd,
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def ids(path: Path) -> list[str]:
    return [json.loads(line)["episode_id"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An episode file (one episode) and its settings manifest from a real run: what a resume starts from."""
    out = tmp_path_factory.mktemp("finished") / "eps.jsonl"
    assert collect(out).rc == 0
    return out


Fixture = Callable[[str], Any]  # pytest's request.getfixturevalue: an attack asks for what it needs


def resume_with(*flags: str) -> Callable[[Path, Fixture], Outcome]:
    def attack(tmp: Path, fixture: Fixture) -> Outcome:
        finished = fixture("finished")
        out = tmp / "eps.jsonl"
        shutil.copy(finished, out)
        shutil.copy(finished.with_name(finished.name + ".settings.json"), tmp / "eps.jsonl.settings.json")
        before = out.read_bytes()
        outcome = collect(out, *flags)
        after = out.read_bytes()
        assert after == before if outcome.rc else after.startswith(before) and len(ids(out)) == 2
        return outcome

    return attack


def with_flags(*flags: str) -> Callable[[Path, Fixture], Outcome]:
    return lambda tmp, _: collect(tmp / "eps.jsonl", *flags)


def out_file(name: str) -> Callable[[Path, Fixture], Outcome]:
    """Collect into a copy of a corpus file (an existing --out, as after an earlier run)."""

    def attack(tmp: Path, _: Fixture) -> Outcome:
        out = tmp / name
        shutil.copy(CORPUS / name, out)
        return collect(out)

    return attack


def out_is_a_directory(tmp: Path, _: Fixture) -> Outcome:
    return collect(tmp)


def out_links_to(target: str) -> Callable[[Path, Fixture], Outcome]:
    """--out a symlink to a special file (a FIFO made here, or a device): refused before anything reads it."""

    def attack(tmp: Path, _: Fixture) -> Outcome:
        special = Path(target) if target.startswith("/") else tmp / target
        if not special.exists():
            os.mkfifo(special)
        link = tmp / "eps.jsonl"
        link.symlink_to(special)
        return collect(link)

    return attack


def out_fifo(tmp: Path, _: Fixture) -> Outcome:
    os.mkfifo(tmp / "eps.jsonl")
    return collect(tmp / "eps.jsonl")


def out_symlink_to_a_torn_file(tmp: Path, fixture: Fixture) -> Outcome:
    """The episodes go through the link into the real file, whose torn tail is cut; the link stays a link."""
    finished = fixture("finished")
    real = tmp / "real.jsonl"
    real.write_bytes(finished.read_bytes() + b'{"episode_id": "torn", "st')
    shutil.copy(finished.with_name(finished.name + ".settings.json"), tmp / "real.jsonl.settings.json")
    link = tmp / "eps.jsonl"
    link.symlink_to(real)
    outcome = collect(link, "--max-tasks", "2")
    assert link.is_symlink() and len(ids(real)) == len(set(ids(real))) == 2
    return outcome


def two_writers_at_once(tmp: Path, _: Fixture) -> Outcome:
    """A second collection into the same --out while the first runs is refused, naming the first; the first
    finishes with every episode once."""
    out = tmp / "eps.jsonl"
    first = collect_process(
        out, *BASE, "--max-tasks", "3", "--episodes-per-task", "3", "--max-steps", "30", "--workers", "0"
    )
    deadline = time.monotonic() + 120
    while not (tmp / ".eps.jsonl.lock").exists():
        assert first.poll() is None and time.monotonic() < deadline, first.stderr.read() if first.stderr else ""
        time.sleep(0.05)
    second = collect(out)
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert len(ids(out)) == len(set(ids(out))) == 9
    assert not (tmp / ".eps.jsonl.lock").exists()
    return second


def old_file_without_manifest(tmp: Path, fixture: Fixture) -> Outcome:
    finished = fixture("finished")
    out = tmp / "old.jsonl"
    shutil.copy(finished, out)
    outcome = collect(out, "--max-tasks", "2")
    assert json.loads(Path(f"{out}.settings.json").read_text())["policy"] == "expert"  # written now
    assert len(ids(out)) == 2
    return outcome


def corrupt_manifest(tmp: Path, fixture: Fixture) -> Outcome:
    finished = fixture("finished")
    out = tmp / "eps.jsonl"
    shutil.copy(finished, out)
    Path(f"{out}.settings.json").write_text("{not json")
    return collect(out)


def full_disk(tmp: Path, fixture: Fixture) -> Outcome:
    """The disk fills up while an episode is appended (a 64 KiB tmpfs, in a private mount namespace): ENOSPC,
    one line, and the episode file holds exactly the complete episodes it held before."""
    if subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (unshare -rm not permitted)")
    finished = fixture("finished")
    disk = tmp / "disk"
    disk.mkdir()
    script = f"""
        set -e
        mount -t tmpfs -o size=64k tmpfs {disk}
        cp {finished} {finished}.settings.json {disk}/
        dd if=/dev/zero of={disk}/filler bs=1k 2>/dev/null || true  # the disk is full
        set +e
        {sys.executable} -m data_prep.collect_trajectories {" ".join(BASE)} --max-tasks 2 --max-steps 2 \\
            --workers 0 --out {disk}/{finished.name}
        rc=$?
        cp {disk}/{finished.name} {tmp}/after.jsonl
        ls -a {disk} > {tmp}/listing
        exit $rc
    """
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=REPO_ROOT, capture_output=True, text=True)
    assert (tmp / "after.jsonl").read_bytes() == finished.read_bytes()  # the torn episode was cut back off
    assert not [n for n in (tmp / "listing").read_text().split() if n.startswith(".") and n not in (".", "..")]
    return Outcome(proc.returncode, proc.stderr, tmp / "after.jsonl")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_address_to_nothing(tmp: Path, _: Fixture) -> Outcome:
    out = tmp / "eps.jsonl"
    start = time.monotonic()
    proc = collect_process(
        out, *BASE, "--max-tasks", "1", "--workers", "1", env={"RAY_ADDRESS": f"127.0.0.1:{free_port()}"}
    )
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - start < 30
    return Outcome(proc.returncode, err, out)


def ray_node_cannot_start(tmp: Path, _: Fixture) -> Outcome:
    """Ray's local node fails to start (here: its temp folder cannot be made; under load: a start-up timeout)."""
    (tmp / "not_a_folder").write_text("")
    out = tmp / "eps.jsonl"
    env = {"RAY_TMPDIR": str(tmp / "not_a_folder" / "ray"), "RAY_ADDRESS": ""}  # a local node, not a cluster
    proc = collect_process(out, *BASE, "--max-tasks", "1", "--workers", "1", env=env)
    _, err = proc.communicate(timeout=120)
    return Outcome(proc.returncode, err, out)


def task_keeps_killing_workers(tmp: Path, _: Fixture) -> Outcome:
    """A job that kills its Ray worker every time: one line naming it and what to do, not a Ray traceback."""
    ray = pytest.importorskip("ray")
    from envs.ray_workers import EnvWorkerPool

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):

            def main(_argv: list[str] | None) -> int:
                job = {"episode_id": "alfworld/train/killer-game/0"}
                with EnvWorkerPool(
                    "tests.test_ray_workers:always_die_job", 1, max_retries=0, cpus_per_worker=0.5
                ) as pool:
                    list(pool.run([job]))
                return 0

            rc = run_cli(main, [], known=KNOWN_ERRORS)
    finally:
        ray.shutdown()
    return Outcome(rc, err.getvalue(), tmp)


def complete_ids(path: Path) -> list[str]:
    """Episode ids of the complete lines (a kill can leave a torn last line)."""
    lines = path.read_bytes().split(b"\n")[:-1]
    return [json.loads(line)["episode_id"] for line in lines if line.strip()]


def kill_9_at_random_points_then_resume(tmp: Path, fixture: Fixture) -> Outcome:
    """SIGKILL a Ray collection of 2 real games x 2 episodes at a random point after its first episode; resume."""
    shared_alfworld = fixture("shared_alfworld")
    out = tmp / "eps.jsonl"
    out.touch()
    out.chmod(0o640)  # a shared file: the repair and the resume keep its mode
    flags = ["--env", "alfworld", "--data-root", str(shared_alfworld), "--split", "valid_seen", "--policy", "expert"]
    flags += ["--epsilon", "0.3", "--max-tasks", "2", "--episodes-per-task", "2", "--max-steps", "3"]
    delay = random.Random(os.environ.get("FAULT_SEED", "13")).uniform(0.0, 3.0)
    proc = collect_process(out, *flags, "--workers", "1", start_new_session=True)
    deadline = time.monotonic() + 90
    while proc.poll() is None and not out.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver, its Ray node and its workers: one session
        proc.wait()
    before = complete_ids(out)
    resumed = collect_process(out, *flags, "--workers", "0")
    _, err = resumed.communicate(timeout=120)
    after = ids(out)
    assert len(after) == len(set(after)) == 4, after  # no duplicate, no loss
    assert set(before) <= set(after)
    assert not [p.name for p in tmp.iterdir() if p.name.startswith(".")]  # no stray temp file
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    return Outcome(resumed.returncode, err, out)


@dataclass
class Attack:
    name: str
    run: Callable[[Path, Fixture], Outcome]
    expect: str  # a substring of the one error line, or OK


ATTACKS = [
    # flags: each names the flag; 0 steps is an error, not the default (only a missing flag takes the default)
    Attack("max_tasks_negative", with_flags("--max-tasks", "-2"), "argument --max-tasks: must be >= 1, got -2"),
    Attack("max_tasks_zero", with_flags("--max-tasks", "0"), "argument --max-tasks: must be >= 1, got 0"),
    Attack("episodes_per_task_negative", with_flags("--episodes-per-task", "-1"), "--episodes-per-task: must be >= 1"),
    Attack("episodes_per_task_zero", with_flags("--episodes-per-task", "0"), "--episodes-per-task: must be >= 1"),
    Attack("max_steps_zero", with_flags("--max-steps", "0"), "argument --max-steps: must be >= 1, got 0"),
    Attack("max_steps_not_a_number", with_flags("--max-steps", "ten"), "--max-steps: expected an integer >= 1"),
    Attack("workers_negative", with_flags("--workers", "-1"), "argument --workers: must be >= 0, got -1"),
    Attack("epsilon_above_one", with_flags("--epsilon", "1.5"), "argument --epsilon: must be in [0.0, 1.0]"),
    Attack("epsilon_nan", with_flags("--epsilon", "nan"), "argument --epsilon: must be in [0.0, 1.0]"),
    Attack("invalid_above_one", with_flags("--invalid", "2"), "argument --invalid: must be in [0.0, 1.0]"),
    Attack("invalid_with_random_policy", with_flags("--policy", "random", "--invalid", "0.2"), "expert policy only"),
    Attack("temperature_negative", with_flags("--temperature", "-1"), "argument --temperature: must be in"),
    Attack("history_window_negative", with_flags("--history-window", "-1"), "--history-window: must be >= 0"),
    # the --out file: malformed, truncated, non-UTF-8, wrong types, empty, a folder
    Attack("out_is_a_directory", out_is_a_directory, "is a folder, not an episode file"),
    Attack(
        "bad_byte_in_a_complete_line", out_file("bad_byte_in_middle.jsonl"), "bad_byte_in_middle.jsonl:2: not UTF-8"
    ),
    Attack("bad_byte_in_the_torn_last_line", out_file("bad_byte_in_torn_tail.jsonl"), OK),
    Attack("malformed_json_line", out_file("malformed_json.jsonl"), "malformed_json.jsonl:2: Expecting property name"),
    Attack("truncated_line_in_the_middle", out_file("truncated_middle_line.jsonl"), "truncated_middle_line.jsonl:2:"),
    Attack("line_not_an_episode", out_file("not_an_episode.jsonl"), "not_an_episode.jsonl:1: not an episode record"),
    Attack("episode_id_wrong_type", out_file("episode_id_not_a_string.jsonl"), "episode_id must be a string"),
    Attack("binary_garbage", out_file("binary_garbage.jsonl"), "binary_garbage.jsonl:1: not UTF-8 text (byte 0x80"),
    Attack("empty_file", out_file("empty.jsonl"), OK),
    Attack("blank_lines_only", out_file("blank_lines_only.jsonl"), OK),
    # resumes with other settings: refused, naming the file and what differs
    Attack("resume_other_epsilon", resume_with("--epsilon", "0.5"), "epsilon=0.0 now 0.5"),
    Attack("resume_with_invalid_actions", resume_with("--invalid", "0.2"), "invalid=None now 0.2"),
    Attack("resume_other_policy", resume_with("--policy", "random"), "policy='expert' now 'random'"),
    Attack("resume_other_expert_source", resume_with("--expert-source", "handcoded"), "expert_source="),
    Attack("resume_other_max_steps", resume_with("--max-steps", "3"), "max_steps=2 now 3"),
    Attack("resume_other_seed", resume_with("--seed", "7"), "seed=0 now 7"),
    Attack("resume_more_tasks_same_settings", resume_with("--max-tasks", "2"), OK),
    Attack("resume_old_file_without_manifest", old_file_without_manifest, OK),
    Attack("out_symlink_to_dev_zero", out_links_to("/dev/zero"), "is not a regular file"),
    Attack("out_symlink_to_a_fifo", out_links_to("a.fifo"), "is not a regular file"),
    Attack("out_is_a_fifo", out_fifo, "is not a regular file"),
    Attack("out_symlink_to_a_torn_file", out_symlink_to_a_torn_file, OK),
    Attack("two_writers_at_once", two_writers_at_once, "being written by another process (pid "),
    Attack("resume_corrupt_manifest", corrupt_manifest, "unreadable settings manifest"),
    # faults
    Attack("full_disk_while_appending", full_disk, "No space left on device"),
    Attack("ray_address_points_at_nothing", ray_address_to_nothing, "RAY_ADDRESS"),
    Attack("ray_node_cannot_start", ray_node_cannot_start, "Ray did not start"),
    Attack("task_keeps_killing_workers", task_keeps_killing_workers, "alfworld/train/killer-game/0 keeps killing"),
    # kill -9 of a Ray collection of real games at a random point, then resume (skipped without ../shared/alfworld)
    Attack("kill_9_at_random_point_then_resume", kill_9_at_random_points_then_resume, OK),
]


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack(attack: Attack, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    outcome = attack.run(tmp_path, request.getfixturevalue)
    if attack.expect == OK:
        assert outcome.rc == 0, outcome.err
        assert "error" not in outcome.err.lower()
        return
    assert outcome.rc == 2, outcome.err
    assert "Traceback" not in outcome.err
    line = [ln for ln in outcome.err.splitlines() if ln.startswith("error:") or ": error: " in ln]
    assert len(line) == 1 and attack.expect in line[0], outcome.err
