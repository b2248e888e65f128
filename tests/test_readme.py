"""README.md as a test: its shell blocks, in order, as a new user would run them.

Each ```bash block carries a marker comment, `<!-- readme-test: KIND -->`:
- `run`: every command runs for real, in order, in one temporary folder (so each must find what the previous ones
  wrote). Commands that name a model endpoint (`--base-url`, `--user-base-url`) run against local stub servers that
  answer as a policy / world model / user simulator would. For speed the test appends `--max-tasks` /
  `--runs` / `--max-steps` to the collection and evaluation commands (argparse takes the last value).
- `gpu`: `bash scripts/run_*.sh` runs with `--dry-run`; `python -m recipe.rwml.main_rwml ...` is composed, checked and
  validated by `python -m recipe.rwml.compose` with the same overrides (what the schedule does before training).
- `make`: each `make TARGET` exists (`make -n`); `bash ... --dry-run` lines run.
- `fragment`: hydra overrides shown on their own; they must compose and pass the recipe's checks.
Optional flags written `[--flag X]` are dropped; a line with a `...` placeholder is skipped.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT, SHARED_ALFWORLD
from tests.openai_stub import openai_stub

pytestmark = pytest.mark.slow

MARKER = re.compile(r"<!-- readme-test: (\w+) -->\n```bash\n(.*?)```", re.S)
KINDS = {"run", "gpu", "make", "fragment"}
# appended to keep the walk fast; the README's own values are what a user runs
SPEED = {
    "collect_trajectories": ["--max-steps", "4"],
    "evaluate.py": ["--max-tasks", "1", "--runs", "1", "--max-steps", "3"],
    "filter_easy": ["--k", "2"],
}


def readme_blocks() -> list[tuple[str, list[str]]]:
    """(kind, commands) for each marked block: continuation lines joined, comments and optional flags dropped."""
    text = (REPO_ROOT / "README.md").read_text()
    blocks = []
    for kind, body in MARKER.findall(text):
        commands, current = [], ""
        for line in body.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line) if not line.lstrip().startswith("#") else ""
            current += line.rstrip("\\").strip() + " "
            if not line.rstrip().endswith("\\"):
                if current.strip():
                    commands.append(re.sub(r"\s*\[[^\]]*\]", "", current).strip())
                current = ""
        blocks.append((kind, commands))
    return blocks


def test_every_shell_block_of_the_readme_says_how_it_is_checked() -> None:
    text = (REPO_ROOT / "README.md").read_text()
    assert text.count("```bash") == len(MARKER.findall(text)), "a ```bash block without a readme-test marker"
    assert {kind for kind, _ in readme_blocks()} <= KINDS


def stub_answer(request: dict[str, Any]) -> str:
    """A stand-in model: a world-model answer to world-model prompts, a user reply to tau2's user simulator, an
    ALFWorld-style action otherwise (tau2 agents then write to the user)."""
    text = " ".join(str(m.get("content")) for m in request.get("messages", []))
    if "<next_state>" in text:
        return (
            "<think>The door stays shut.</think><next_state>Nothing happens.\nTask is not yet completed.</next_state>"
        )
    if "tools" not in request and "customer" in text.lower():
        return "I would like to return my order, please."
    return "<think>I look around first.</think><action>look</action>"


def adapt(command: str, kind: str, workdir: Path, urls: dict[str, str]) -> list[str] | None:
    """The command as this test runs it, or None to skip it (placeholders)."""
    if "..." in command:
        return None
    for port, url in urls.items():
        command = command.replace(f"http://127.0.0.1:{port}/v1", url)
    argv = shlex.split(os.path.expandvars(command))
    env_prefix = []
    while argv and re.match(r"^[A-Z_]+=", argv[0]):
        env_prefix.append(argv.pop(0))
    if kind == "gpu" and argv[:1] == ["bash"]:
        return [*env_prefix, *argv, "--dry-run"] if "--dry-run" not in argv else [*env_prefix, *argv]
    if kind == "gpu" and argv[:3] == ["python", "-m", "recipe.rwml.main_rwml"]:
        # the data files come from the dataset commands further down the README: promised, not yet there
        data = [a.split("=", 1)[1] for a in argv if re.match(r"^data\.(train|val)_files=", a)]
        return [sys.executable, "-m", "recipe.rwml.compose", *(f"--promise={p}" for p in data), *argv[3:]]
    if argv[:1] == ["python"]:
        argv[0] = sys.executable
        for tool, extra in SPEED.items():
            if any(tool in a for a in argv):
                argv += extra
    return [*env_prefix, *argv]


def run(argv: list[str], workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    assignments = dict(a.split("=", 1) for a in argv if re.match(r"^[A-Z_]+=", a))
    argv = [a for a in argv if not re.match(r"^[A-Z_]+=", a)]
    return subprocess.run(argv, cwd=workdir, env={**env, **assignments}, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh folder beside a `shared/alfworld` (the real games), holding links to the repo's code folders."""
    if not (SHARED_ALFWORLD / "json_2.1.1").is_dir():
        pytest.skip(f"the README's commands read ../shared/alfworld, not found at {SHARED_ALFWORLD}")
    root = tmp_path_factory.mktemp("readme_walk")
    (root / "shared").symlink_to(SHARED_ALFWORLD.parent)
    work = root / "work"
    work.mkdir()
    code = ("envs", "data_prep", "reward_score", "reward_calibration")
    for name in ("scripts", "recipe", "Makefile", "pyproject.toml", *code):
        (work / name).symlink_to(REPO_ROOT / name)
    return work


def test_readme_commands_run_in_order_and_connect(workdir: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        # a user's $ALFWORLD_DATA holds every split; the bundled games have train and valid_seen (the shared folder
        # only the valid ones), which the README's `--split train` and `$ALFWORLD_DATA` commands need
        "ALFWORLD_DATA": str(REPO_ROOT / "envs" / "alfworld_games"),
        "DATA_DIR": str(workdir / "schedule_data"),
        "CKPT_DIR": str(workdir / "schedule_ckpt"),
    }
    ran: list[str] = []
    done: list[list[str]] = []
    with (
        openai_stub(stub_answer, model="Qwen/Qwen3-8B") as policy,
        openai_stub(stub_answer, model="Qwen3-8B") as user,
        openai_stub(stub_answer, model="Qwen/Qwen3-Embedding-8B") as embedder,  # answers GET /models
    ):
        urls = {"8000": policy.base_url, "8001": user.base_url, "8002": embedder.base_url}
        for kind, commands in readme_blocks():
            for command in commands:
                if kind == "fragment":
                    continue  # checked on its own below
                if kind == "make":
                    argv = shlex.split(command)
                    if "make" in argv:
                        target = argv[argv.index("make") + 1]
                        proc = subprocess.run(["make", "-n", target], cwd=REPO_ROOT, capture_output=True, text=True)
                        assert proc.returncode == 0, f"README: `{command}`: no make target {target}\n{proc.stderr}"
                        continue
                argv = adapt(command, kind, workdir, urls)
                if argv is None or argv[0] in ("export", "make") or "vllm" in argv[:3]:
                    if argv and argv[0] == "export":
                        env.update(dict(a.split("=", 1) for a in argv[1:]))
                    continue
                if argv in done:
                    continue  # the README shows the same command twice (e.g. the schedule with and without --dry-run)
                done.append(argv)
                model = argv[argv.index("--model") + 1] if "--model" in argv else None
                if model and "--base-url" in argv:
                    policy.model = model  # the stub serves the name the command asks for
                start = time.perf_counter()
                proc = run(argv, workdir, env)
                print(f"[{time.perf_counter() - start:5.1f}s] {command[:110]}")
                assert proc.returncode == 0, (
                    f"README command failed (rc {proc.returncode}):\n  {command}\nran as: {shlex.join(argv)}\n"
                    f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
                )
                ran.append(command)
    # the walk connected: what the later commands read, the earlier ones wrote
    written = ["data/episodes/alfworld.jsonl", "data/episodes/tau2_retail.jsonl", "data/wm/train.parquet",
               "data/wm/val.parquet", "data/wm_sft/train.parquet", "data/wm/train_filtered.parquet",
               "data/wm/train_filtered_report/report.json", "data/policy_alfworld/train.parquet",
               "data/policy_tau2/val.parquet", "eval/rwml_policy/summary.json", "eval/expert/results.md"]  # fmt: skip
    for path in written:
        assert (workdir / path).is_file(), f"no README command wrote {path}"
    assert len(ran) >= 12


def test_readme_override_fragment_composes_and_passes_the_recipe_checks() -> None:
    from recipe.rwml.compose import compose_stage
    from recipe.rwml.config_checks import config_problems

    (fragment,) = [commands for kind, commands in readme_blocks() if kind == "fragment"]
    overrides = " ".join(fragment).split()
    cfg = compose_stage("rwml", ["actor_rollout_ref.model.path=/m", "data.train_files=/t", "data.val_files=/v",
                                 *overrides])  # fmt: skip
    lines = [p.line for p in config_problems(cfg, promised=["/t", "/v"], check_endpoints=False)]
    # the fragment names the embedder by its folder on the training machine, which this one lacks
    assert [line for line in lines if "error: the embedder folder" not in line] == []
    assert cfg.reward.reward_manager.name == "SimToRealRewardManager"
