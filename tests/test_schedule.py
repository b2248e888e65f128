"""The two-stage schedule scripts (scripts/run_*.sh over scripts/lib/schedule.sh), driven as a user drives them.

--dry-run needs no GPU, model or data: it must print every stage in order with resolved commands, skip stages whose
outputs are complete, and stop with a message naming what is missing. A real run here (no GPU) must refuse before
running anything that needs one, and a CPU-only stage (building the world-model parquet from real ALFWorld episodes)
really runs, writes its marker, and is skipped on the rerun.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PLAN_LINE = re.compile(r"^  (\w+)\s+(run|skip|off)\b(.*?)\s+-> (\S+)$", re.M)


class Run:
    def __init__(self, proc: subprocess.CompletedProcess, data: Path, ckpt: Path) -> None:
        self.rc, self.out, self.err, self.data, self.ckpt = proc.returncode, proc.stdout, proc.stderr, data, ckpt

    @property
    def executed(self) -> list[str]:
        """Stages whose commands were printed/run, in order."""
        return re.findall(r"^== stage (\w+)\b", self.out, re.M)

    @property
    def plan(self) -> dict[str, str]:
        return {m.group(1): m.group(2) + m.group(3) for m in PLAN_LINE.finditer(self.out)}

    def command(self, needle: str) -> str:
        """The one printed command line containing `needle`."""
        lines = [line for line in self.out.splitlines() if line.startswith("+ ") and needle in line]
        assert len(lines) == 1, f"{len(lines)} commands contain {needle!r}:\n{self.out}"
        return lines[0]


def schedule(tmp_path: Path, script: str, *args: str, **env: str) -> Run:
    """Run a schedule script with a clean environment: PATH, HOME, DATA_DIR and CKPT_DIR under tmp_path, and `env`."""
    data, ckpt = tmp_path / "data", tmp_path / "ckpt"
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DATA_DIR": str(data), "CKPT_DIR": str(ckpt)}
    proc = subprocess.run(
        ["bash", f"scripts/{script}", *args],
        cwd=REPO_ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(proc, data, ckpt)


def complete(path: Path, *files: str) -> None:
    """Make `path` look like a finished stage output: the folder (with `files`) and its .done marker."""
    path.mkdir(parents=True, exist_ok=True)
    for name in files:
        (path / name).write_bytes(b"x")
    Path(f"{path}.done").touch()


@pytest.fixture(scope="module")
def qwen3_8b_dry_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """`bash scripts/run_rwml_qwen3_8b.sh --dry-run` with DATA_DIR and CKPT_DIR only, as scripts/demo.py runs it."""
    return schedule(tmp_path_factory.mktemp("dry"), "run_rwml_qwen3_8b.sh", "--dry-run")


# ----------------------------------------------------------------------------------------------- dry run


def test_dry_run_prints_both_stages_in_order_with_resolved_commands(qwen3_8b_dry_run: Run) -> None:
    run = qwen3_8b_dry_run
    assert run.rc == 0, run.err
    assert run.executed == [
        "collect",
        "wm_data",
        "filter_sft_data",
        "filter_sft",
        "filter_convert",
        "filter",
        "rwml",
        "convert_stage1",
        "policy_data",
        "policy",
        "convert_policy",
        "evaluate",
    ]
    assert run.plan["eval_stage1"] == "off"
    data, ckpt = run.data, run.ckpt
    # settings are printed with their resolved defaults
    assert re.search(r"^  MODEL_PATH\s+Qwen/Qwen3-8B$", run.out, re.M)
    assert re.search(r"^  ENV\s+tau2$", run.out, re.M)
    # collection: the target model served by vLLM, sampled at temperature 1.0, 6 episodes per tau2 task
    assert "serve Qwen/Qwen3-8B --served-model-name policy" in run.command("serve Qwen/Qwen3-8B")
    collect = run.command("--domain retail")
    assert "--episodes-per-task 6 --max-steps 60 --temperature 1.0 --history-window 5" in collect
    assert f"--out {data}/episodes_tau2/retail.jsonl" in collect
    assert f"--out-dir {data}/wm_tau2 --history 5" in run.command("build_wm_dataset")
    # the easy-sample filter: an SFT world model on 10% of the train tasks scores the rest; those tasks are left out
    assert f"--out-dir {data}/filter_sft_tau2 --history 5 --train-task-fraction 0.1" in run.command("build_sft_dataset")
    assert f"trainer.default_local_dir={ckpt}/filter_sft " in run.command("verl.trainer.sft_trainer")
    assert f"--target-dir {ckpt}/filter_sft_hf" in run.command(f"convert_to_hf.py --ckpt-dir {ckpt}/filter_sft ")
    assert "--served-model-name wm-filter" in run.command(f"serve {ckpt}/filter_sft_hf")
    easy = run.command("data_prep.filter_easy")
    assert "--base-url http://127.0.0.1:8000/v1 --model wm-filter --k 10 --p-keep 0.1 --easy-fraction 0.3" in easy
    assert f"--exclude-tasks-from {data}/filter_sft_tau2/train.parquet" in easy
    assert '"model": "Qwen/Qwen3-Embedding-8B"' in easy  # scored with the stage-1 reward
    # stage 1: the tau2 config, the filtered world-model parquet, checkpoints under CKPT_DIR; composed values printed
    stage1 = run.command("--config-name rwml_trainer_tau2")
    for part in (
        f"data.train_files={data}/wm_tau2/train_filtered.parquet",
        f"data.val_files={data}/wm_tau2/val.parquet",
        "actor_rollout_ref.model.path=Qwen/Qwen3-8B",
        "trainer.n_gpus_per_node=8 trainer.nnodes=1",
        f"trainer.default_local_dir={ckpt}/rwml",
        "reward.reward_kwargs.model=Qwen/Qwen3-Embedding-8B",
    ):
        assert part in stage1
    assert "    actor_rollout_ref.actor.kl_loss_coef = 0.001" in run.out
    assert "    data.max_prompt_length = 10240" in run.out
    assert run.command(f"--ckpt-dir {ckpt}/rwml ").endswith(
        f"convert_to_hf.py --ckpt-dir {ckpt}/rwml --target-dir {ckpt}/rwml_hf"
    )
    # stage 2 starts from the converted stage-1 checkpoint
    stage2 = run.command("--config-name policy_trainer")
    assert f"actor_rollout_ref.model.path={ckpt}/rwml_hf" in stage2
    assert f"trainer.default_local_dir={ckpt}/policy" in stage2
    assert "evaluate.py" in run.command(f"--out-dir {ckpt}/eval_policy")
    # what a real run would still need is named, and the dry run created nothing
    assert "a real run would stop here" in run.out
    assert "stage rwml needs EMBED_BASE_URL" in run.out and "stage policy needs USER_BASE_URL" in run.out
    assert not run.data.exists() and not run.ckpt.exists()


def test_alfworld_sibling_runs_the_alfworld_settings(tmp_path: Path) -> None:
    alfworld = tmp_path / "alfworld"
    (alfworld / "json_2.1.1" / "train").mkdir(parents=True)
    run = schedule(tmp_path, "run_rwml_qwen2.5_7b.sh", "--dry-run", "--until", "rwml", ALFWORLD_DATA=str(alfworld))
    assert run.rc == 0, run.err
    filter_stages = ["filter_sft_data", "filter_sft", "filter_convert", "filter"]
    assert run.executed == ["collect", "wm_data", *filter_stages, "rwml"]
    assert run.plan["policy"] == "skip (after --until rwml)"
    collect = run.command("collect_trajectories")
    assert f"--env alfworld --data-root {alfworld} --split train" in collect
    assert "--episodes-per-task 3 --max-steps 30 --temperature 1.0 --history-window 2" in collect
    assert "--history 2" in run.command("build_wm_dataset")
    assert "actor_rollout_ref.model.path=Qwen/Qwen2.5-7B-Instruct" in run.command("--config-name rwml_trainer ")
    assert "    data.max_prompt_length = 1500" in run.out and "    data.max_response_length = 512" in run.out
    assert "ALFWORLD_DATA" not in run.out.split("plan:")[1]  # the games are there: no complaint


def test_rerun_skips_completed_stages_and_resumes_unfinished_ones(tmp_path: Path) -> None:
    data = tmp_path / "data"
    complete(data / "episodes_tau2", "airline.jsonl", "retail.jsonl", "telecom.jsonl")
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh", "--dry-run", "--until", "wm_data")
    assert run.rc == 0, run.err
    assert run.plan["collect"] == f"skip (done: {data}/episodes_tau2.done exists)"
    assert run.executed == ["wm_data"] and "collect_trajectories" not in run.out
    # both done: nothing left before --until
    complete(data / "wm_tau2", "train.parquet", "val.parquet")
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh", "--dry-run", "--until", "wm_data")
    assert run.rc == 0, run.err
    assert run.executed == [] and "nothing to run" in run.out
    # an output without its marker is an interrupted stage: it runs again (the tools resume from what is there)
    Path(f"{data}/wm_tau2.done").unlink()
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh", "--dry-run", "--until", "wm_data")
    assert run.rc == 0, run.err
    assert run.executed == ["wm_data"] and run.plan["wm_data"] == "run"


def test_from_forces_a_stage_and_moves_its_old_output_aside(tmp_path: Path) -> None:
    data = tmp_path / "data"
    complete(data / "episodes_tau2", "airline.jsonl", "retail.jsonl", "telecom.jsonl")
    complete(data / "wm_tau2", "train.parquet", "val.parquet")
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh", "--dry-run", "--from", "wm_data", "--until", "wm_data")
    assert run.rc == 0, run.err
    assert run.plan["collect"] == "skip (before --from wm_data)"
    assert run.plan["wm_data"] == "run (forced by --from wm_data)"
    assert run.executed == ["wm_data"]
    assert re.search(rf"^\+ mv {data}/wm_tau2 {data}/wm_tau2\.bak-\d{{8}}-\d{{6}}$", run.out, re.M)
    assert (data / "wm_tau2" / "train.parquet").exists()  # a dry run moves nothing


def test_filter_with_a_served_model_skips_building_one(tmp_path: Path) -> None:
    complete(tmp_path / "data" / "wm_tau2", "train.parquet", "val.parquet")
    sft_train = tmp_path / "filter_sft_train.parquet"
    sft_train.write_bytes(b"x")
    env = {"FILTER_MODEL_URL": "http://10.0.0.5:8001/v1", "FILTER_MODEL_NAME": "wm-sft-1.5b"}
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh", "--dry-run", "--until", "filter", **env)
    assert run.rc == 0, run.err
    assert [run.plan[s] for s in ("filter_sft_data", "filter_sft", "filter_convert")] == ["off"] * 3
    assert run.executed == ["collect", "filter"]
    easy = run.command("data_prep.filter_easy")
    assert "--base-url http://10.0.0.5:8001/v1 --model wm-sft-1.5b" in easy and "--exclude-tasks-from" not in easy
    run = schedule(
        tmp_path,
        "run_rwml_qwen3_8b.sh",
        "--dry-run",
        "--until",
        "filter",
        FILTER_EXCLUDE_TASKS_FROM=str(sft_train),
        **env,
    )
    assert f"--exclude-tasks-from {sft_train}" in run.command("data_prep.filter_easy")


def test_missing_inputs_stop_with_a_message_naming_them(tmp_path: Path) -> None:
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh", "--dry-run", "--from", "rwml")
    assert run.rc == 2
    assert f"stage rwml needs {run.data}/wm_tau2/train_filtered.parquet, which is missing" in run.err
    assert "stage filter makes it" in run.err and "nothing was run" in run.err
    assert f"stage rwml needs {run.data}/wm_tau2/val.parquet, which is missing (stage wm_data makes it" in run.err
    assert run.executed == []
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh", "--dry-run", "--from", "convert_policy")
    assert run.rc == 2
    assert f"stage convert_policy needs {run.ckpt}/policy, which is missing (stage policy makes it" in run.err


def test_real_run_without_gpus_or_endpoints_refuses_before_running_anything(tmp_path: Path) -> None:
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh", "--until", "wm_data", N_GPUS="64")
    assert run.rc == 2
    assert re.search(r"GPUs: (nvidia-smi not found|N_GPUS=64 but nvidia-smi lists \d+)", run.err)
    assert "stage collect needs USER_BASE_URL" in run.err
    assert run.executed == [] and not run.data.exists()


def test_hydra_overrides_pass_through_and_bad_ones_stop_the_schedule(tmp_path: Path) -> None:
    complete(tmp_path / "data" / "wm_tau2", "train.parquet", "val.parquet")
    run = schedule(
        tmp_path,
        "run_rwml_qwen3_8b.sh",
        "--dry-run",
        "--from",
        "rwml",
        "--until",
        "rwml",
        RWML_OVERRIDES="actor_rollout_ref.actor.optim.lr=2e-6 trainer.total_epochs=3",
        FILTER_EASY="0",
    )
    assert run.rc == 0, run.err
    stage1 = run.command("main_rwml")
    # the user's overrides come last (they win), then the console log is kept for the summary table
    assert stage1.endswith(
        f"actor_rollout_ref.actor.optim.lr=2e-6 trainer.total_epochs=3 '2>&1 | tee -a {run.ckpt}/logs/rwml.log'"
    )
    assert f"data.train_files={run.data}/wm_tau2/train.parquet " in stage1  # FILTER_EASY=0: the unfiltered parquet
    assert "    actor_rollout_ref.actor.optim.lr = 2e-06" in run.out and "    trainer.total_epochs = 3" in run.out
    run = schedule(
        tmp_path,
        "run_rwml_qwen3_8b.sh",
        "--dry-run",
        "--from",
        "rwml",
        "--until",
        "rwml",
        RWML_OVERRIDES="reward_model.reward_manager=naive",
        FILTER_EASY="0",
    )
    assert run.rc == 2 and "the rwml_trainer_tau2 config does not compose or validate" in run.err
    assert "reward_model.reward_manager=naive -> use reward.reward_manager.name" in run.err
    assert "main_rwml" not in run.out


def test_unknown_stage_or_argument_is_an_error(tmp_path: Path) -> None:
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh", "--dry-run", "--from", "stage1")
    assert run.rc == 2 and "unknown stage 'stage1'" in run.err
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh", "--dry-run", "data.train_batch_size=16")
    assert run.rc == 2 and "unknown argument 'data.train_batch_size=16'" in run.err and "RWML_OVERRIDES" in run.err


def test_baselines_and_moe_sibling(tmp_path: Path) -> None:
    sft = schedule(tmp_path / "sft", "run_wm_sft_baseline.sh", "--dry-run")
    assert sft.rc == 0, sft.err
    assert sft.executed == [
        "collect",
        "wm_data",
        "sft_data",
        "sft",
        "convert_stage1",
        "policy_data",
        "policy",
        "convert_policy",
        "evaluate",
    ]
    train = sft.command("verl.trainer.sft_trainer")
    assert f"data.train_files={sft.data}/sft_tau2/train.parquet" in train and "model.path=Qwen/Qwen3-8B" in train
    assert f"--target-dir {sft.ckpt}/wm_sft_hf" in sft.command(f"convert_to_hf.py --ckpt-dir {sft.ckpt}/wm_sft ")
    assert f"actor_rollout_ref.model.path={sft.ckpt}/wm_sft_hf" in sft.command("--config-name policy_trainer")

    rl = schedule(tmp_path / "rl", "run_policy_rl_baseline.sh", "--dry-run")
    assert rl.rc == 0, rl.err
    assert rl.executed == ["policy_data", "policy", "convert_policy", "evaluate"]
    assert "actor_rollout_ref.model.path=Qwen/Qwen3-8B " in rl.command("--config-name policy_trainer")

    complete(tmp_path / "moe" / "data" / "wm_tau2", "train.parquet", "val.parquet")
    moe = schedule(
        tmp_path / "moe", "run_rwml_qwen3_30b_a3b.sh", "--dry-run", "--from", "rwml", "--until", "rwml", FILTER_EASY="0"
    )
    assert moe.rc == 0, moe.err
    stage1 = moe.command("main_rwml")
    assert "actor_rollout_ref.model.path=Qwen/Qwen3-30B-A3B" in stage1
    assert "actor_rollout_ref.rollout.tensor_model_parallel_size=2" in stage1
    assert "actor_rollout_ref.ref.fsdp_config.param_offload=true" in stage1


# ----------------------------------------------------------------------------------------------- real run, CPU stage


def test_cpu_stage_really_runs_marks_done_and_is_skipped_on_rerun(tmp_path: Path) -> None:
    from data_prep.collect_trajectories import main as collect

    data = tmp_path / "data"
    episodes = data / "episodes_alfworld" / "train.jsonl"
    args = ["--env", "alfworld", "--data-root", "bundled", "--split", "train", "--policy", "expert"]
    rc = collect([*args, "--epsilon", "0.3", "--episodes-per-task", "2", "--workers", "0", "--out", str(episodes)])
    assert rc == 0 and episodes.stat().st_size > 0
    Path(f"{data}/episodes_alfworld.done").touch()

    env = {"ENV": "alfworld", "EMBED_MODEL": "all-MiniLM-L6-v2"}
    run = schedule(tmp_path, "run_rwml_qwen2.5_7b.sh", "--until", "wm_data", **env)
    assert run.rc == 0, run.err
    assert run.executed == ["wm_data"] and run.plan["collect"].startswith("skip (done")
    assert (data / "wm_alfworld" / "train.parquet").is_file() and (data / "wm_alfworld" / "val.parquet").is_file()
    assert Path(f"{data}/wm_alfworld.done").exists()
    run = schedule(tmp_path, "run_rwml_qwen2.5_7b.sh", "--until", "wm_data", **env)
    assert run.rc == 0, run.err
    assert run.executed == [] and "nothing to run" in run.out


FAKE_VLLM = """#!/usr/bin/env bash
# `vllm serve MODEL --served-model-name NAME --port PORT ...` stand-in: the tests' OpenAI stub on that port
set -euo pipefail
port=""; name=""
while (($#)); do case "$1" in --port) port="$2"; shift ;; --served-model-name) name="$2"; shift ;; esac; shift; done
exec {python} {server} "$port" "$name"
"""

FAKE_SERVER = """import os, sys
from http.server import ThreadingHTTPServer
import threading
sys.path.insert(0, {repo!r})
from tests.openai_stub import _Handler

server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), _Handler)
server.daemon_threads = True
server.model, server.honour_n, server.requests, server.lock = sys.argv[2], False, [], threading.Lock()
server.responder = lambda req: "<think>I should look around first.</think><action>look</action>"
open({pid_file!r}, "w").write(str(os.getpid()))
server.serve_forever()
"""


def test_real_collect_stage_serves_the_model_collects_and_stops_the_server(tmp_path: Path) -> None:
    """The GPU-free parts of a real stage: vLLM (a stand-in on the port) started in the background and awaited,
    real ALFWorld episodes collected through it, the server's process group stopped, the stage marked done."""
    import sys

    from tests.openai_stub import free_port_url

    bin_dir, pid_file = tmp_path / "bin", tmp_path / "server.pid"
    bin_dir.mkdir()
    (tmp_path / "server.py").write_text(FAKE_SERVER.format(repo=str(REPO_ROOT), pid_file=str(pid_file)))
    fakes = {
        "vllm": FAKE_VLLM.format(python=sys.executable, server=tmp_path / "server.py"),
        "nvidia-smi": "#!/usr/bin/env bash\necho 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)'\n",
    }
    for name, text in fakes.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    port = free_port_url().rsplit(":", 1)[1].split("/")[0]
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "VLLM": str(bin_dir / "vllm"),
        "VLLM_PORT": port,
        "N_GPUS": "1",
        "ALFWORLD_DATA": str(REPO_ROOT / "envs" / "alfworld_games"),
        "EPISODES_PER_TASK": "1",
        "COLLECT_MAX_STEPS": "2",
        "COLLECT_WORKERS": "0",
    }
    run = schedule(tmp_path, "run_rwml_qwen2.5_7b.sh", "--until", "collect", **env)
    assert run.rc == 0, run.out[-3000:] + run.err[-3000:]
    assert run.executed == ["collect"]
    episodes = [line for line in (run.data / "episodes_alfworld" / "train.jsonl").read_text().splitlines() if line]
    train_games = list((REPO_ROOT / "envs" / "alfworld_games" / "json_2.1.1" / "train").iterdir())
    assert len(episodes) == len([g for g in train_games if g.is_dir()])
    assert all('"action": "look"' in e for e in episodes)  # every step came from the served stand-in
    assert Path(f"{run.data}/episodes_alfworld.done").exists()
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert list((run.ckpt / "logs").glob("server-policy-*.log"))


def test_cpu_schedule_runs_the_same_stages_on_the_cpu_backend(tmp_path: Path) -> None:
    """make train-cpu: the GPU schedule's stage functions with PLATFORM=cpu (no vLLM, no GPU preflight)."""
    model = tmp_path / "smollm2_hf"
    run = schedule(tmp_path, "run_rwml_cpu.sh", "--dry-run", MODEL_PATH=str(model))
    assert run.rc == 0, run.err
    assert run.executed == [
        "base_model", "collect", "wm_data", "rwml", "convert_stage1", "policy_data", "policy", "convert_policy",
        "evaluate",
    ]  # fmt: skip
    assert run.command("make_smollm2_hf").endswith(f"scripts/make_smollm2_hf.py {model}")
    serve = [line for line in run.out.splitlines() if "recipe.rwml.cpu.openai_server" in line]
    assert len(serve) == 2 and "vllm serve" not in run.out  # collection and evaluation, on the CPU server
    assert "--max-tokens 96" in run.command("collect_trajectories")
    for config in ("rwml_trainer ", "policy_trainer "):
        command = run.command(f"main_rwml --config-name {config}")
        assert "+platform=cpu" in command and "trainer.total_training_steps=" in command
        assert "tee -a" in command  # the console log the final table reads
    assert "--data-root " + str(REPO_ROOT / "envs" / "alfworld_games") in run.command("build_policy_dataset")


def test_cpu_schedule_refuses_what_the_cpu_cannot_run(tmp_path: Path) -> None:
    run = schedule(tmp_path, "run_rwml_cpu.sh", "--until", "collect", ENV="tau2", FILTER_EASY="1")
    assert run.rc == 2
    assert "PLATFORM=cpu: ENV=tau2 needs tool calling" in run.err
    assert "PLATFORM=cpu: FILTER_EASY=1" in run.err
    assert run.executed == []


def test_preflight_asks_every_endpoint_before_anything_starts(tmp_path: Path) -> None:
    """A typo in an endpoint URL stops the run at once, naming the setting, not after the GPUs are busy."""
    from tests.openai_stub import free_port_url

    dead = free_port_url()
    run = schedule(
        tmp_path, "run_rwml_qwen3_8b.sh", "--until", "collect",
        PATH=os.environ["PATH"], POLICY_BASE_URL=dead, POLICY_MODEL_NAME="m", USER_BASE_URL=dead,
    )  # fmt: skip
    assert run.rc == 2 and run.executed == []
    assert f"stage collect: POLICY_BASE_URL={dead} does not answer GET {dead}/models" in run.err
    assert f"stage collect: USER_BASE_URL={dead} does not answer" in run.err


def test_preflight_accepts_an_endpoint_that_answers(tmp_path: Path) -> None:
    from tests.openai_stub import openai_stub

    with openai_stub(lambda request: "ok") as server:
        run = schedule(
            tmp_path, "run_rwml_qwen3_8b.sh", "--until", "collect", PATH=os.environ["PATH"], ENV="alfworld",
            POLICY_BASE_URL=server.base_url, POLICY_MODEL_NAME="stub-model", ALFWORLD_DATA=str(tmp_path / "none"),
        )  # fmt: skip
    assert run.rc == 2 and run.executed == []  # stopped by the missing games, not by the endpoint
    assert "does not answer" not in run.err and "stage collect needs ALFWORLD_DATA" in run.err
