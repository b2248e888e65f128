"""Fault corpus, area "build": dataset building and checkpoint conversion under bad input, kills and faults.

`BAD_RECORDS` is the table of bad episode files (tests/fault_corpus/build/, each a good episode, then the bad line,
then another good one): the build must stop with ONE line naming file:line and the field, exit 2, and leave no
parquet; `--skip-bad` must skip exactly that line, count it, and build what the good lines alone give.
`BAD_COMMANDS` are other bad inputs of the same tools (empty files, folders, a huge line, bad flags) -> one line.
Then the faults: kill -9 at seeded random points of build_wm_dataset and of convert_to_hf, then rerun (complete,
identical, nothing left behind), a full disk (a small tmpfs in a user namespace), and file permissions kept.
`CONVERT_ATTACKS`: targets convert_to_hf must not replace (someone's folder, the cwd, the checkpoint, the base model)
and checkpoints it must not pass (another model's tokenizer, a changed rope) -> one line, exit 2, nothing changed.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from benchmarks.bench_wm_dataset import write_synthetic_episodes
from data_prep import build_policy_dataset, build_sft_dataset, build_wm_dataset
from data_prep.atomic_file import write_atomic
from data_prep.episode_store import EpisodeStore
from recipe.rwml import base_models, convert_to_hf
from tests.conftest import REPO_ROOT

CORPUS = REPO_ROOT / "tests" / "fault_corpus" / "build"
GOOD = CORPUS / "good.jsonl"

# attack file -> (bad line, expected substring of the one error line)
BAD_RECORDS = {
    "next_observation_null.jsonl": (2, "field 'steps[0].next_observation' is null, expected a string"),
    "action_number.jsonl": (2, "field 'steps[1].action' is a number, expected a string"),
    "action_list.jsonl": (2, "field 'steps[1].action' is a list, expected a string"),
    "done_string.jsonl": (2, "field 'steps[1].done' is a string, expected true or false"),
    "step_missing_done.jsonl": (2, "field 'steps[1].done' is missing"),
    "step_not_object.jsonl": (2, "field 'steps[1]' is a string, expected an object"),
    "steps_object.jsonl": (2, "field 'steps' is an object, expected a list"),
    "missing_initial_observation.jsonl": (2, "has no field 'initial_observation'"),
    "task_id_null.jsonl": (2, "field 'task_id' is null, expected a string"),
    "info_string.jsonl": (2, "field 'info' is a string, expected an object"),
    "won_string.jsonl": (2, "field 'steps[2].info.won' is a string, expected true or false"),
    "unknown_env.jsonl": (2, "unknown environment 'minecraft'"),
    "tau2_unknown_domain.jsonl": (2, "field 'info.domain': unknown tau2 domain 'banking'"),  # tau2 logs at import
    "not_json.jsonl": (2, "not valid JSON (Expecting value at column 32)"),
    "json_list.jsonl": (2, "the line is a list, not an episode record"),
    "not_an_episode.jsonl": (2, "not an episode record (needs 'episode_id' and 'steps')"),
    "invalid_utf8.jsonl": (2, "invalid UTF-8 byte 0xff at column"),
    "latin1_text.jsonl": (2, "invalid UTF-8 byte 0xe9 at column"),
    "truncated.jsonl": (3, "not valid JSON (Unterminated string"),
}


PROGRESS_BAR = re.compile(r"^(scanning episodes|world-model (SFT )?triplets): +(\d+ep|\d+%)")


def one_error_line(err: str, *, others_log: bool = False) -> str:
    """The command's stderr without tqdm's carriage-return redraws: exactly one `error: ...` line, no traceback.

    `others_log`: a library imported on the way (tau2) logs at import; only our own lines must be one.
    """
    lines = [ln.split("\r")[-1] for ln in err.split("\n")]
    lines = [ln for ln in lines if ln.strip() and not PROGRESS_BAR.match(ln)]
    lines = [ln for ln in lines if not others_log or ln.startswith("error")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def table_rows(out: Path) -> dict[str, list[dict]]:
    return {s: pq.read_table(out / f"{s}.parquet").to_pylist() for s in ("train", "val")}


@pytest.fixture(scope="module")
def good_rows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:
    out = tmp_path_factory.mktemp("good")
    assert build_wm_dataset.main(["--input", str(GOOD), "--out-dir", str(out), "--val-fraction", "0.5"]) == 0
    return table_rows(out)


@pytest.mark.parametrize("name", sorted(BAD_RECORDS))
def test_bad_record_is_one_line_with_file_line_field_and_skip_bad_skips_only_it(
    name: str, good_rows, tmp_path: Path, capsys
) -> None:
    lineno, expected = BAD_RECORDS[name]
    src, out = CORPUS / name, tmp_path / "out"
    argv = ["--input", str(src), "--out-dir", str(out), "--val-fraction", "0.5"]
    assert build_wm_dataset.main(argv) == 2
    line = one_error_line(capsys.readouterr().err, others_log=name.startswith("tau2"))
    assert expected in line and f"{src}:{lineno}, " in line and "--skip-bad" in line, line
    assert not out.exists() or list(out.iterdir()) == []

    assert build_wm_dataset.main([*argv, "--skip-bad"]) == 0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["bad_lines_skipped"] == 1 and stats["episodes"] == 2
    assert stats["bad_lines"][0].startswith(f"{src}:{lineno}: ") and expected in stats["bad_lines"][0]
    assert table_rows(out) == good_rows  # exactly the good lines, nothing of the bad one


def test_sft_builder_reads_episodes_the_same_way(tmp_path: Path, capsys) -> None:
    src = CORPUS / "next_observation_null.jsonl"
    argv = ["--input", str(src), "--out-dir", str(tmp_path / "sft")]
    assert build_sft_dataset.main(argv) == 2
    assert f"{src}:2, " in one_error_line(capsys.readouterr().err)
    assert build_sft_dataset.main([*argv, "--skip-bad"]) == 0
    assert json.loads((tmp_path / "sft" / "stats.json").read_text())["bad_lines_skipped"] == 1


def _huge_line(tmp_path: Path) -> Path:
    path = tmp_path / "huge.jsonl"
    with open(path, "wb") as f:
        f.write(GOOD.read_bytes())
        f.truncate(f.tell() + (65 << 20))  # a 65 MiB line of NUL bytes with no newline (sparse: no disk used)
    return path


def _file_as_out(tmp_path: Path) -> Path:
    (tmp_path / "afile").write_text("x")
    return tmp_path / "afile"


def _fifo(tmp: Path) -> Path:
    fifo = tmp / "episodes.fifo"
    os.mkfifo(fifo)  # reading it would wait for a writer forever
    return fifo


# attack -> (command main, argv from tmp_path, expected substring of the one error line)
BAD_COMMANDS: dict[str, tuple[Callable[[list[str]], int], Callable[[Path], list[str]], str]] = {
    "empty file": (build_wm_dataset.main, lambda t: ["--input", str(CORPUS / "empty.jsonl")], "no episodes in"),
    "only blank lines": (build_wm_dataset.main, lambda t: ["--input", str(CORPUS / "blank_lines.jsonl")], "no epis"),
    "missing input": (build_wm_dataset.main, lambda t: ["--input", str(t / "nope.jsonl")], "does not exist"),
    "folder as input": (build_wm_dataset.main, lambda t: ["--input", str(t)], "is a folder, not an episode file"),
    "FIFO as input": (build_wm_dataset.main, lambda t: ["--input", str(_fifo(t))], "is not a regular file"),
    "/dev/zero as input": (build_wm_dataset.main, lambda t: ["--input", "/dev/zero"], "is not a regular file"),
    "huge line": (build_wm_dataset.main, lambda t: ["--input", str(_huge_line(t))], "line is longer than 64 MiB"),
    "out-dir is a file": (
        build_wm_dataset.main,
        lambda t: ["--input", str(GOOD), "--out-dir", str(_file_as_out(t))],
        "afile",
    ),
    "bad val fraction": (build_sft_dataset.main, lambda t: ["--input", str(GOOD), "--val-fraction", "1.5"], "[0, 1)"),
    "policy --max-tasks 0": (
        build_policy_dataset.main,
        lambda t: ["--env", "alfworld", "--data-root", "bundled", "--max-tasks", "0", "--out-dir", str(t)],
        "--max-tasks must be >= 1, got 0, --max-tasks",
    ),
    "policy out-dir is a file": (
        build_policy_dataset.main,
        lambda t: ["--env", "alfworld", "--data-root", "bundled", "--out-dir", str(_file_as_out(t))],
        "is a file, not a folder, --out-dir",
    ),
    "convert: no such actor dir": (
        convert_to_hf.main,
        lambda t: ["--actor-dir", str(t / "nope"), "--target-dir", str(t / "hf")],
        "does not exist",
    ),
    "smollm2 OUT is a file": (base_models.main, lambda t: [str(_file_as_out(t))], "is a file, not a folder, OUT"),
}


@pytest.mark.parametrize("attack", sorted(BAD_COMMANDS))
def test_bad_command_input_is_one_line_exit_2(attack: str, tmp_path: Path, capsys) -> None:
    main, argv, expected = BAD_COMMANDS[attack]
    args = argv(tmp_path)
    if main in (build_wm_dataset.main, build_sft_dataset.main) and "--out-dir" not in args:
        args += ["--out-dir", str(tmp_path / "out")]
    assert main(args) == 2
    line = one_error_line(capsys.readouterr().err)
    assert expected in line, line
    assert not list(tmp_path.glob("**/*.parquet")) and not list(tmp_path.glob("**/.*.tmp"))


# --- kill -9 and rerun ----------------------------------------------------------------------------------------


def _stray(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_build_killed_at_random_points_then_rerun_is_complete_and_identical(tmp_path: Path) -> None:
    src = tmp_path / "episodes.jsonl"
    write_synthetic_episodes(src, 20_000)
    flags = ["--input", str(src), "--rows-per-group", "200"]
    reference = tmp_path / "reference"
    assert build_wm_dataset.main([*flags, "--out-dir", str(reference)]) == 0

    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "data_prep.build_wm_dataset", *flags, "--out-dir", str(out)]
    rng = random.Random(13)
    # kills at seeded random times after the start, then one that lands while row groups are being written
    for when in (rng.uniform(0.2, 1.5), rng.uniform(0.2, 1.5), "mid-write"):
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if when == "mid-write":
                deadline = time.monotonic() + 60
                while not any(p.stat().st_size > 0 for p in out.glob(f".train.parquet.*.{proc.pid}.tmp")):
                    assert proc.poll() is None and time.monotonic() < deadline, "the build ended before the kill"
                    time.sleep(0.02)
            else:
                time.sleep(when)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait()
        if when == "mid-write":
            assert any(str(proc.pid) in name for name in _stray(out))  # the killed run's temp files, named by pid

    res = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "a temporary file left by process" in res.stderr
    assert _stray(out) == []
    assert sorted(p.name for p in out.iterdir()) == ["stats.json", "train.parquet", "val.parquet"]
    for split in ("train", "val"):
        assert pq.read_table(out / f"{split}.parquet").equals(pq.read_table(reference / f"{split}.parquet"))
    got, want = (json.loads((d / "stats.json").read_text()) for d in (out, reference))
    assert got.pop("files") == {s: str(out / f"{s}.parquet") for s in ("train", "val")}
    assert got == {k: v for k, v in want.items() if k != "files"}


def test_temp_file_of_a_live_process_is_kept(tmp_path: Path) -> None:
    live = subprocess.Popen(["sleep", "60"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    out = tmp_path / "out"
    out.mkdir()
    theirs, stale = out / f".train.parquet.abc.{live.pid}.tmp", out / f".train.parquet.xyz.{dead.pid}.tmp"
    theirs.write_bytes(b"being written")
    stale.write_bytes(b"left by a kill")
    try:
        assert build_wm_dataset.main(["--input", str(GOOD), "--out-dir", str(out)]) == 0
        assert theirs.read_bytes() == b"being written" and not stale.exists()
    finally:
        live.kill()
        live.wait()


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture(scope="module")
def actor_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.fsdp_checkpoint import write_fsdp_checkpoint

    ckpt = tmp_path_factory.mktemp("ckpt") / "ckpt"
    write_fsdp_checkpoint(tiny_model_dir, ckpt, steps=(1,), world_size=1, strategy="fsdp")
    return ckpt / "global_step_1" / "actor"


def test_convert_killed_mid_merge_then_rerun_removes_the_stale_model(actor_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "models" / "hf"
    cmd = [sys.executable, "scripts/convert_to_hf.py", "--actor-dir", str(actor_dir), "--target-dir", str(target)]
    proc = subprocess.Popen([*cmd, "--no-check"], cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    leftover = target.parent / f".hf.converting-{proc.pid}"
    try:
        deadline = time.monotonic() + 120
        while not leftover.is_dir():  # verl's merger has started writing the merged model
            assert proc.poll() is None and time.monotonic() < deadline, "the conversion ended before the kill"
            time.sleep(0.02)
        time.sleep(random.Random(6).uniform(0.0, 1.0))
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    time.sleep(0.5)  # the merger child got SIGKILL with its parent; let it go
    assert leftover.is_dir() and not target.exists()

    live = subprocess.Popen(["sleep", "60"])
    theirs = target.parent / f".hf.converting-{live.pid}"  # another conversion, still running
    theirs.mkdir()
    try:
        res = subprocess.run([*cmd, "--no-check"], cwd=REPO_ROOT, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        assert f"removed {leftover}: left by process {proc.pid}, which is gone" in res.stderr
        assert not leftover.exists() and theirs.is_dir()
        assert (target / "config.json").is_file() and (target / "model.safetensors").is_file()
    finally:
        live.kill()
        live.wait()


def test_convert_killed_while_replacing_restores_the_earlier_model(tmp_path: Path, capfd) -> None:
    """A kill between "set the old model aside" and "move the new one in" leaves only `.hf.old-<pid>`: put it back."""
    target, pid = tmp_path / "hf", _dead_pid()
    earlier = tmp_path / f".hf.old-{pid}"
    earlier.mkdir()
    (earlier / "config.json").write_text('{"model_type": "qwen2"}')
    stale = tmp_path / f".hf.converting-{_dead_pid()}"
    stale.mkdir()
    assert convert_to_hf.remove_stale_temp_dirs(target) == [stale]
    assert f"restored the earlier model {target}" in capfd.readouterr().err
    assert (target / "config.json").read_text() == '{"model_type": "qwen2"}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hf"]


# --- a full disk ---------------------------------------------------------------------------------------------


def test_full_disk_is_one_line_and_leaves_no_temp_file(tmp_path: Path) -> None:
    """The build writes into a 64 KiB tmpfs (mounted in a user namespace): ENOSPC mid-write."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare not found")
    src = tmp_path / "episodes.jsonl"
    write_synthetic_episodes(src, 2_000)
    small = tmp_path / "small"
    small.mkdir()
    build = f"{sys.executable} -m data_prep.build_wm_dataset --input {src} --out-dir {small}/out --rows-per-group 100"
    script = f"mount -t tmpfs -o size=64k tmpfs {small} || exit 99; {build}; echo rc=$?; ls -A {small}/out"
    res = subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=REPO_ROOT, capture_output=True, text=True)
    if res.returncode == 99 or "unshare:" in res.stderr:
        pytest.skip(f"cannot mount a tmpfs in a user namespace here: {res.stderr.strip()}")
    line = one_error_line(res.stderr)
    assert line.startswith(f"error: disk full at {small}/out, ") and "free space" in line, line
    assert res.stdout.split() == ["rc=2"]  # nothing left in the output folder: no 0-byte temp file, no parquet


# --- permissions ---------------------------------------------------------------------------------------------


def test_repaired_torn_tail_keeps_the_files_mode(tmp_path: Path) -> None:
    path = tmp_path / "episodes.jsonl"
    path.write_bytes(GOOD.read_bytes() + b'{"episode_id": "torn", "ste')
    path.chmod(0o644)
    old_umask = os.umask(0o077)  # a umask-based mode would be 0600, as mkstemp's is
    try:
        with EpisodeStore(path) as store:
            assert (path.stat().st_mode & 0o777) == 0o644
        assert path.read_bytes() == GOOD.read_bytes() and len(store.done) == 2
        os.umask(0o002)
        write_atomic(tmp_path / "new.json", "{}")  # a new file gets what the umask gives, not 0600
        assert ((tmp_path / "new.json").stat().st_mode & 0o777) == 0o664
    finally:
        os.umask(old_umask)
    assert _stray(tmp_path) == []


def _victim(tmp: Path) -> Path:
    """Someone's project folder: a config.json (as a Node app has) and source files."""
    victim = tmp / "victim"
    (victim / "src").mkdir(parents=True)
    (victim / "config.json").write_text('{"name": "my-app"}')
    (victim / "src" / "precious.py").write_text("work")
    return victim


def _actor_copy(actor_dir: Path, tmp: Path) -> Path:
    copy = tmp / "ckpt" / "global_step_1" / "actor"
    shutil.copytree(actor_dir, copy)
    return copy


def _other_tokenizer(actor: Path, tmp: Path) -> None:
    small = base_models.make_tiny_model(tmp / "small", vocab_size=300)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(small / name, actor / "huggingface" / name)


def _rope_changed(actor: Path, tmp: Path) -> None:
    path = actor / "huggingface" / "config.json"
    config = json.loads(path.read_text())
    rope = config.get("rope_parameters") or config
    rope["rope_theta"] = float(rope.get("rope_theta", 10000.0)) * 4
    path.write_text(json.dumps(config))


# convert_to_hf target and checkpoint attacks (issue 24) -> (target from tmp and the actor copy, a change to the
# checkpoint copy or None, extra flags, expected substring of the one error line). Each must exit 2 and leave every
# file under tmp as it was, victim's included.
CONVERT_ATTACKS: dict[str, tuple[Callable[[Path, Path], Path], Callable[[Path, Path], None] | None, list[str], str]] = {
    "target a project folder with a config.json": (lambda t, a: _victim(t), None, [], "was not made by this converter"),
    "target the current directory": (lambda t, a: Path("."), None, [], "is the current directory"),
    "target the checkpoint folder": (lambda t, a: a.parents[1], None, [], "the checkpoint folder"),
    "target inside the checkpoint": (lambda t, a: a / "huggingface", None, [], "the checkpoint folder"),
    "target the base model": (lambda t, a: t / "base", None, ["--base-model", "{tmp}/base"], "the base model"),
    "target a file": (lambda t, a: _file_as_out(t), None, [], "is not a folder"),
    "tokenizer of another model": (lambda t, a: t / "hf", _other_tokenizer, [], "the tokenizer belongs to another"),
    "rope changed against the base model": (
        lambda t, a: t / "hf",
        _rope_changed,
        ["--base-model", "{tmp}/base", "--dtype", "fp32"],
        "computes another function than the base model",
    ),
}


@pytest.mark.parametrize("attack", sorted(CONVERT_ATTACKS))
def test_convert_refuses_what_it_must_not_replace_or_write(
    attack: str, actor_dir: Path, tiny_model_dir: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    target_of, change, extra, expected = CONVERT_ATTACKS[attack]
    shutil.copytree(tiny_model_dir, tmp_path / "base")
    actor = _actor_copy(actor_dir, tmp_path)
    if change is not None:
        change(actor, tmp_path)
    target = target_of(tmp_path, actor)
    if target == Path("."):
        monkeypatch.chdir(_victim(tmp_path))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    argv = ["--actor-dir", str(actor), "--target-dir", str(target), *[a.format(tmp=tmp_path) for a in extra]]
    assert convert_to_hf.main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error")]  # beside it: a save's progress bar
    assert len(lines) == 1 and "Traceback" not in err and expected in lines[0], err
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and "/small/" not in str(p)}
    assert after == {p: b for p, b in before.items() if "/small/" not in str(p)}
