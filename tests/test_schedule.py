"""The two-stage schedule: its table and plans as data (recipe/rwml/schedule/), and scripts/run_*.sh as users run them.

End to end: --dry-run prints every stage with resolved commands and needs no GPU, model or data; a real run here (no
GPU) refuses before running anything; a CPU-only stage and a collection through a served stand-in model really run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recipe.rwml.schedule.plan import make_plan, platform_needs
from recipe.rwml.schedule.preflight import endpoint_problems, gpu_problems
from recipe.rwml.schedule.schedules import SCHEDULES
from recipe.rwml.schedule.settings import REPO, ScheduleError, Settings, resolve_settings
from recipe.rwml.schedule.stages import STAGES
from recipe.rwml.schedule.steps import Command, Logged, Serve, StopServer, shell_quote
from tests.conftest import REPO_ROOT
from tests.openai_stub import free_port_url, openai_stub

PLAN_LINE = re.compile(r"^  (\w+)\s+(run|skip|off)\b(.*?)\s+-> (\S+)$", re.M)
RWML_STAGES = (
    "collect wm_data filter_sft_data filter_sft filter_convert filter rwml convert_stage1 policy_data policy "
    "convert_policy evaluate"
).split()


def settings(tmp: Path, schedule: str = "rwml_qwen3_8b", **env: str) -> Settings:
    base = {"DATA_DIR": str(tmp / "data"), "CKPT_DIR": str(tmp / "ckpt"), **env}
    return resolve_settings(SCHEDULES[schedule].environment(base, REPO), REPO)


def commands(s: Settings, stage: str) -> list[str]:
    """A stage's printed command lines."""
    return [shell_quote(step.argv) for step in STAGES[stage].steps(s) if isinstance(step, Command | Logged | Serve)]


def complete(path: Path, *files: str) -> None:
    """Make `path` look like a finished stage output: the folder (with `files`) and its .done marker."""
    path.mkdir(parents=True, exist_ok=True)
    for name in files:
        (path / name).write_bytes(b"x")
    Path(f"{path}.done").touch()


# ----------------------------------------------------------------------------------------------- the table, as data


@pytest.mark.parametrize("name", list(SCHEDULES))
@pytest.mark.parametrize(
    "env",
    [
        {"ENV": "alfworld"},
        {"ENV": "tau2", "EVAL_STAGE1": "1"},
        {"FILTER_EASY": "0"},
        {"FILTER_MODEL_URL": "http://h/v1", "FILTER_MODEL_NAME": "m", "FILTER_EXCLUDE_TASKS_FROM": "/a.pq /b.pq"},
        {"WARMUP_STEPS": "3"},
    ],
)
def test_every_input_is_made_by_an_earlier_stage_or_named_by_a_setting(tmp_path: Path, name: str, env: dict) -> None:
    s = settings(tmp_path, name, **env)
    made: list[str] = []
    for stage in (st for st in SCHEDULES[name].stages if st.enabled(s)):
        for path in stage.inputs(s):
            assert path in s.words("FILTER_EXCLUDE_TASKS_FROM") or any(
                path == out or path.startswith(out + "/") for out in made
            ), f"{name}: stage {stage.name} reads {path}, which no earlier stage writes"
        assert not set(stage.outputs(s)) & set(made), f"{name}: stage {stage.name} overwrites an earlier output"
        made += stage.outputs(s)


def test_the_cpu_schedule_is_the_gpu_table_with_other_defaults(tmp_path: Path) -> None:
    cpu, gpu = SCHEDULES["rwml_cpu"], SCHEDULES["rwml_qwen3_8b"]
    cpu_stages = "base_model collect wm_data filter_sft_data filter_sft filter_convert filter sft_data warmup "
    cpu_stages += "warmup_convert rwml convert_stage1 policy_data policy convert_policy evaluate"
    assert [st.name for st in cpu.stages] == cpu_stages.split()
    assert all(stage is STAGES[stage.name] for stage in cpu.stages + gpu.stages)
    s = settings(tmp_path, "rwml_cpu")
    assert (s["PLATFORM"], s["ENV"], s["FILTER_EASY"], s["N_GPUS"]) == ("cpu", "alfworld", "0", "1")
    assert s["MODEL_PATH"] == f"{REPO}/demo_out/smollm2_hf" and s["ALFWORLD_DATA"] == f"{REPO}/envs/alfworld_games"
    # the expert with 30% random actions plays (a 135M model's unparsable outputs give no world-model data) ...
    (collect,) = commands(s, "collect")
    assert "--policy expert --epsilon 0.3" in collect and "openai_server" not in collect
    # ... or, with COLLECT_POLICY=model, the model itself, served by the CPU server: no vLLM, no tool parser
    model = settings(tmp_path, "rwml_cpu", COLLECT_POLICY="model")
    serve, played = commands(model, "collect")
    assert serve.startswith(f"{s['PYTHON']} -m recipe.rwml.cpu.openai_server --model {s['MODEL_PATH']} ")
    assert "--policy openai" in played and "--max-tokens 96" in played
    for stage in ("rwml", "policy"):
        assert "+platform=cpu" in commands(s, stage)[0] and "trainer.total_training_steps=" in commands(s, stage)[0]
    assert "trainer.n_gpus_per_node=2" in commands(settings(tmp_path, "rwml_cpu", N_GPUS="2"), "rwml")[0]
    assert commands(s, "base_model") == [f"{s['PYTHON']} scripts/make_smollm2_hf.py {s['MODEL_PATH']}"]
    assert make_plan(cpu.stages, s).status["filter_sft"] == "off"  # FILTER_EASY=0: make train-cpu stays as fast
    assert platform_needs(settings(tmp_path, "rwml_cpu", ENV="tau2", FILTER_EASY="1")) == [
        "PLATFORM=cpu: ENV=tau2 needs tool calling, which the CPU server lacks (use vLLM: make smoke-vllm)",
    ]  # the filter's SFT model trains on the CPU too


def test_sft_stages_on_cpu_run_verls_sft_trainer_with_the_cpu_config_and_env(tmp_path: Path) -> None:
    """PLATFORM=cpu: torchrun with one rank, recipe/rwml/config/sft_trainer_cpu.yaml and the CPU backend's
    variables (recipe.rwml.cpu.checks.CPU_ENV, exported by the runner); the GPU command has neither."""
    from recipe.rwml.cpu.checks import CPU_ENV
    from recipe.rwml.schedule.runner import process_env

    config = f"--config-path {REPO}/recipe/rwml/config --config-name sft_trainer_cpu "
    cpu = settings(tmp_path, "rwml_cpu", FILTER_EASY="1", N_GPUS="2")
    status = make_plan(SCHEDULES["rwml_cpu"].stages, cpu).status
    assert [status[st] for st in ("filter_sft_data", "filter_sft", "filter_convert", "filter")] == ["run"] * 4
    assert not platform_needs(cpu)
    (sft,) = commands(cpu, "filter_sft")
    launch = "-m torch.distributed.run --standalone --nproc_per_node 1 -m verl.trainer.sft_trainer "
    assert sft.startswith(f"{cpu['PYTHON']} {launch}{config}data.train_files={tmp_path}/data/filter_sft_alfworld/")
    assert f"model.path={cpu['MODEL_PATH']} " in sft and f"trainer.default_local_dir={tmp_path}/ckpt/filter_sft " in sft
    assert sft.endswith(
        "trainer.total_epochs=2 data.train_batch_size=2 trainer.total_training_steps=2 trainer.save_freq=1"
    )
    assert process_env(cpu, {"PATH": "/bin"}).items() >= CPU_ENV.items()
    assert commands(cpu, "filter")[0].startswith(f"{cpu['PYTHON']} -m recipe.rwml.cpu.openai_server ")
    assert "--k 2 " in commands(cpu, "filter")[1]
    # the WM-SFT baseline on the CPU: the same command for its stage 1, its own checkpoints, stage 2 from it
    baseline = settings(tmp_path, "wm_sft_cpu", CKPT_DIR="")
    (train,) = commands(baseline, "sft")
    assert f"{launch}{config}data.train_files={tmp_path}/data/sft_alfworld/train.parquet " in train
    assert f"trainer.default_local_dir={REPO}/demo_out/train_cpu/checkpoints_wm_sft/wm_sft " in train
    assert f"actor_rollout_ref.model.path={baseline.stage1_hf} " in commands(baseline, "policy")[0]
    assert "+platform=cpu" in commands(baseline, "policy")[0]
    # the GPU command is verl's default config on N_GPUS ranks, with no CPU backend in its environment
    (gpu,) = commands(settings(tmp_path, "wm_sft_baseline"), "sft")
    assert "torch.distributed.run --standalone --nnodes 1 --nproc_per_node 8 -m verl.trainer.sft_trainer data." in gpu
    assert "sft_trainer_cpu" not in gpu and "--config-path" not in gpu
    assert not set(CPU_ENV) & set(process_env(settings(tmp_path, "wm_sft_baseline"), {"PATH": "/bin"}))


def test_settings_defaults_and_errors() -> None:
    s = resolve_settings({"MODEL_PATH": "Qwen/Qwen3-8B/", "TP": "2", "EMBED_MODEL": "all-MiniLM-L6-v2", "HISTORY": ""})
    assert s["DATA_DIR"] == f"{REPO}/data/Qwen3-8B" and s["CKPT_DIR"] == f"{REPO}/checkpoints/rwml-alfworld"
    assert (s["EPISODES_PER_TASK"], s["COLLECT_MAX_STEPS"], s["HISTORY"]) == ("3", "30", "2")  # empty: the default
    assert s["VLLM_SERVE_ARGS"] == "--tensor-parallel-size 2 --data-parallel-size 4 --gpu-memory-utilization 0.9"
    assert s["EMBED_INSTRUCTION"] == "null" and s["FILTER_BASE_MODEL"] == "Qwen/Qwen3-8B/"
    tau2 = resolve_settings({"MODEL_PATH": "m", "ENV": "tau2"})
    assert (tau2["EPISODES_PER_TASK"], tau2["COLLECT_MAX_STEPS"], tau2["HISTORY"]) == ("6", "60", "5")
    assert tau2.rwml_config == "rwml_trainer_tau2" and tau2["EMBED_INSTRUCTION"] == "default"
    for env, message in [
        ({}, "MODEL_PATH is not set"),
        ({"MODEL_PATH": "m", "PLATFORM": "tpu"}, "PLATFORM=tpu: expected gpu or cpu"),
        ({"MODEL_PATH": "m", "ENV": "webshop"}, "ENV=webshop: expected alfworld or tau2"),
        ({"MODEL_PATH": "m", "POLICY_FROM": "x"}, "POLICY_FROM=x: expected rwml, sft or base"),
    ]:
        with pytest.raises(ScheduleError, match=f"^{re.escape(message)}$"):
            resolve_settings(env)
    # the baselines fix where stage 2 starts
    assert settings(Path("/t"), "policy_rl_baseline", POLICY_FROM="rwml").policy_init == "Qwen/Qwen3-8B"
    assert settings(Path("/t"), "wm_sft_baseline").policy_init == "/t/ckpt/wm_sft_hf"


# ----------------------------------------------------------------------------------------------- the plan, as data


def test_plan_skips_done_stages_and_follows_from_and_until(tmp_path: Path) -> None:
    s, stages = settings(tmp_path), SCHEDULES["rwml_qwen3_8b"].stages
    data = tmp_path / "data"
    plan = make_plan(stages, s)
    assert [st.name for st in plan.to_run] == RWML_STAGES and plan.status["eval_stage1"] == "off" and plan.gpu
    complete(data / "episodes_tau2", "airline.jsonl", "retail.jsonl", "telecom.jsonl")
    plan = make_plan(stages, s, until="wm_data")
    assert plan.status["collect"] == f"skip (done: {data}/episodes_tau2.done exists)"
    assert [st.name for st in plan.to_run] == ["wm_data"] and plan.status["rwml"] == "skip (after --until wm_data)"
    complete(data / "wm_tau2", "train.parquet", "val.parquet")
    assert make_plan(stages, s, until="wm_data").to_run == []
    Path(f"{data}/wm_tau2.done").unlink()  # an output without its marker: an interrupted stage, run again
    assert make_plan(stages, s, until="wm_data").status["wm_data"] == "run"
    plan = make_plan(stages, s, start="wm_data", until="filter_sft_data")
    assert plan.status["collect"] == "skip (before --from wm_data)"
    assert plan.status["wm_data"] == plan.status["filter_sft_data"] == "run (forced by --from wm_data)"
    assert plan.missing == []  # the episodes exist


def test_missing_inputs_name_the_stage_that_makes_them(tmp_path: Path) -> None:
    s, stages = settings(tmp_path), SCHEDULES["rwml_qwen3_8b"].stages
    data, ckpt = tmp_path / "data", tmp_path / "ckpt"
    missing = make_plan(stages, s, start="rwml").missing
    assert missing[:2] == [
        f"stage rwml needs {data}/wm_tau2/train_filtered.parquet, which is missing (stage filter makes it: "
        "rerun without --from/--until, or --from filter)",
        f"stage rwml needs {data}/wm_tau2/val.parquet, which is missing (stage wm_data makes it: "
        "rerun without --from/--until, or --from wm_data)",
    ]
    assert (
        make_plan(stages, s, start="convert_policy")
        .missing[0]
        .startswith(f"stage convert_policy needs {ckpt}/policy, which is missing (stage policy makes it")
    )
    s = settings(tmp_path, FILTER_MODEL_URL="http://h/v1", FILTER_MODEL_NAME="m", FILTER_EXCLUDE_TASKS_FROM="/x.pq")
    assert "stage filter needs /x.pq, which is missing" in make_plan(stages, s).missing  # no stage makes it


def test_plan_names_the_settings_a_real_run_needs(tmp_path: Path) -> None:
    needs = make_plan(SCHEDULES["rwml_qwen3_8b"].stages, settings(tmp_path)).needs
    assert needs[0] == "stage collect needs USER_BASE_URL (tau2 user simulator endpoint)"
    assert "stage rwml needs EMBED_BASE_URL (an OpenAI-compatible /v1 embeddings endpoint serving " in "\n".join(needs)
    assert "stage policy needs USER_BASE_URL (tau2 user simulator endpoint; it must stay up" in "\n".join(needs)
    games = tmp_path / "games"
    (games / "json_2.1.1" / "train").mkdir(parents=True)
    s = settings(tmp_path, ENV="alfworld", ALFWORLD_DATA=str(games), EMBED_MODEL="all-MiniLM-L6-v2")
    assert make_plan(SCHEDULES["rwml_qwen3_8b"].stages, s).needs == []
    s = settings(tmp_path, ENV="alfworld", FILTER_MODEL_URL="http://h/v1", EMBED_BASE_URL="http://e/v1")
    assert make_plan(SCHEDULES["rwml_qwen3_8b"].stages, s).needs == [
        "stage collect needs ALFWORLD_DATA (a folder holding json_2.1.1/train; now '')",
        "stage filter needs FILTER_MODEL_NAME (the model name served at http://h/v1)",
        "stage policy_data needs ALFWORLD_DATA (a folder holding json_2.1.1/train; now '')",
        "stage evaluate needs ALFWORLD_DATA (a folder holding json_2.1.1/{valid_seen valid_unseen}; now '')",
    ]


# ----------------------------------------------------------------------------------------------- commands, as data


def test_commands_of_the_filter_baselines_and_moe(tmp_path: Path) -> None:
    data, ckpt = tmp_path / "data", tmp_path / "ckpt"
    served = STAGES["filter"].steps(settings(tmp_path))
    assert isinstance(served[0], Serve) and isinstance(served[-1], StopServer)
    assert f"--exclude-tasks-from {data}/filter_sft_tau2/train.parquet" in commands(settings(tmp_path), "filter")[1]
    env = {"FILTER_MODEL_URL": "http://10.0.0.5:8001/v1", "FILTER_MODEL_NAME": "wm-sft-1.5b"}
    s = settings(tmp_path, **env)
    status = make_plan(SCHEDULES["rwml_qwen3_8b"].stages, s).status
    assert [status[st] for st in ("filter_sft_data", "filter_sft", "filter_convert")] == ["off"] * 3
    (easy,) = commands(s, "filter")  # no server: the given one scores
    assert "--base-url http://10.0.0.5:8001/v1 --model wm-sft-1.5b" in easy and "--exclude-tasks-from" not in easy
    s = settings(tmp_path, "wm_sft_baseline")
    (train,) = commands(s, "sft")
    assert f"data.train_files={data}/sft_tau2/train.parquet" in train and "model.path=Qwen/Qwen3-8B" in train
    assert commands(s, "convert_stage1")[0].endswith(
        f"--ckpt-dir {ckpt}/wm_sft --target-dir {ckpt}/wm_sft_hf --base-model Qwen/Qwen3-8B --dtype bf16"
    )
    assert f"actor_rollout_ref.model.path={ckpt}/wm_sft_hf " in commands(s, "policy")[0]
    s = settings(tmp_path, "wm_sft_baseline", NNODES="2", TORCHRUN_ARGS="--rdzv-backend c10d", SFT_OVERRIDES="a=1")
    assert "torch.distributed.run --nnodes 2 --nproc_per_node 8 --rdzv-backend c10d -m " in commands(s, "sft")[0]
    assert commands(s, "sft")[0].endswith("'trainer.logger=[console]' trainer.total_epochs=2 a=1")
    s = settings(tmp_path, "policy_rl_baseline")
    stage2 = [st.name for st in make_plan(SCHEDULES["policy_rl_baseline"].stages, s).to_run]
    assert stage2 == ["policy_data", "policy", "convert_policy", "evaluate"]
    assert "actor_rollout_ref.model.path=Qwen/Qwen3-8B " in commands(s, "policy")[0]
    stage1 = commands(settings(tmp_path, "rwml_qwen3_30b_a3b"), "rwml")[0]
    assert "actor_rollout_ref.model.path=Qwen/Qwen3-30B-A3B" in stage1
    assert "actor_rollout_ref.rollout.tensor_model_parallel_size=2" in stage1
    assert "actor_rollout_ref.ref.fsdp_config.param_offload=true" in stage1


def test_commands_are_printed_the_way_a_shell_reads_them_back() -> None:
    assert shell_quote(["a", "b=c,d/e:f@g%h+i-j", "", "x y", "it's", "&", "[x]"]) == (
        "a b=c,d/e:f@g%h+i-j '' 'x y' 'it'\\''s' & '[x]'"
    )


# ----------------------------------------------------------------------------------------------- the preflight


def test_preflight_names_missing_gpus_vllm_and_silent_endpoints(tmp_path: Path, monkeypatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    s = settings(tmp_path, VLLM="vllm")
    assert gpu_problems(s) == [
        "GPUs: nvidia-smi not found (training and serving need 8 NVIDIA GPUs per node)",
        "vLLM: 'vllm' not found (make install-gpu, or set VLLM)",
    ]
    for name, text in {"nvidia-smi": "echo 'GPU 0: H100 (UUID: GPU-0)'", "vllm": "true"}.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{text}\n")
        (bin_dir / name).chmod(0o755)
    assert gpu_problems(s) == ["GPUs: N_GPUS=8 but nvidia-smi lists 1"]
    assert gpu_problems(settings(tmp_path, N_GPUS="1", VLLM="vllm")) == []
    dead = free_port_url()
    with openai_stub(lambda request: "ok") as server:
        s = settings(tmp_path, POLICY_BASE_URL=server.base_url, USER_BASE_URL=dead, EMBED_BASE_URL=dead)
        problems = endpoint_problems(SCHEDULES["rwml_qwen3_8b"].stages, s)
    why = f"does not answer GET {dead}/models (is the server up? is the URL right, with /v1?)"
    assert problems == [f"stage collect: USER_BASE_URL={dead} {why}", f"stage filter: EMBED_BASE_URL={dead} {why}"]


# ----------------------------------------------------------------------------------------------- scripts/run_*.sh


class Run:
    def __init__(self, proc: subprocess.CompletedProcess, data: Path, ckpt: Path) -> None:
        self.rc, self.out, self.err, self.data, self.ckpt = proc.returncode, proc.stdout, proc.stderr, data, ckpt

    @property
    def executed(self) -> list[str]:
        """Stages whose commands were printed/run, in order."""
        return re.findall(r"^== stage (\w+) \(\d+/\d+, \d\d:\d\d:\d\d\)$", self.out, re.M)

    @property
    def plan(self) -> dict[str, str]:
        return {m.group(1): m.group(2) + m.group(3) for m in PLAN_LINE.finditer(self.out)}

    def command(self, needle: str) -> str:
        """The one printed command line containing `needle`."""
        lines = [line for line in self.out.splitlines() if line.startswith("+ ") and needle in line]
        assert len(lines) == 1, f"{len(lines)} commands contain {needle!r}:\n{self.out}"
        return lines[0]


def schedule(tmp_path: Path, command: str, **env: str) -> Run:
    """`bash scripts/<command>` with a clean environment: PATH, HOME, DATA_DIR and CKPT_DIR under tmp_path, `env`."""
    data, ckpt = tmp_path / "data", tmp_path / "ckpt"
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DATA_DIR": str(data), "CKPT_DIR": str(ckpt)}
    argv = ["bash", *(f"scripts/{command}").split()]
    proc = subprocess.run(argv, cwd=REPO_ROOT, env={**base, **env}, capture_output=True, text=True, timeout=300)
    return Run(proc, data, ckpt)


def test_dry_run_prints_both_stages_in_order_with_resolved_commands(tmp_path: Path) -> None:
    """`bash scripts/run_rwml_qwen3_8b.sh --dry-run` with DATA_DIR and CKPT_DIR only, as recipe/rwml/demo.py runs it."""
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh --dry-run")
    assert run.rc == 0, run.err
    assert run.out.startswith("RWML schedule scripts/run_rwml_qwen3_8b.sh (run rwml_qwen3_8b, ENV=tau2), dry run\n")
    assert run.executed == RWML_STAGES and run.plan["eval_stage1"] == "off"
    assert f"\n  rwml            run                                           -> {run.ckpt}/rwml\n" in run.out
    data, ckpt = run.data, run.ckpt
    # settings are printed with their resolved defaults
    assert re.search(r"^  MODEL_PATH\s+Qwen/Qwen3-8B$", run.out, re.M)
    assert re.search(r"^  ENV                        tau2$", run.out, re.M)
    # collection: the target model served by vLLM, sampled at temperature 1.0, 6 episodes per tau2 task
    assert run.command("serve Qwen/Qwen3-8B").endswith("--tool-call-parser hermes &")
    collect = run.command("--domain retail")
    assert "--episodes-per-task 6 --max-steps 60 --temperature 1.0 --history-window 5" in collect
    assert f"--out {data}/episodes_tau2/retail.jsonl" in collect
    assert f"--out-dir {data}/wm_tau2 --history 5" in run.command("build_wm_dataset")
    # the easy-sample filter: an SFT world model on 10% of the train tasks scores the rest; those tasks are left out
    assert f"--out-dir {data}/filter_sft_tau2 --history 5 --train-task-fraction 0.1" in run.command("build_sft_dataset")
    assert f"trainer.default_local_dir={ckpt}/filter_sft " in run.command("verl.trainer.sft_trainer")
    assert "--served-model-name wm-filter" in run.command(f"serve {ckpt}/filter_sft_hf")
    easy = run.command("data_prep.filter_easy")
    assert "--base-url http://127.0.0.1:8000/v1 --model wm-filter --k 10 --p-keep 0.1 --easy-fraction 0.3" in easy
    assert easy.endswith(
        """--reward-kwargs '{"model": "Qwen/Qwen3-Embedding-8B", "base_url": "UNSET_EMBED_BASE_URL", """
        """"instruction": "default"}'"""
    )  # scored with the stage-1 reward
    # stage 1: the tau2 config, the filtered world-model parquet, checkpoints under CKPT_DIR; composed values printed
    stage1 = run.command("--config-name rwml_trainer_tau2")
    assert f"data.train_files={data}/wm_tau2/train_filtered.parquet" in stage1 and f"={ckpt}/rwml " in stage1
    assert "actor_rollout_ref.model.path=Qwen/Qwen3-8B" in stage1 and "n_gpus_per_node=8 trainer.nnodes=1" in stage1
    assert "    actor_rollout_ref.actor.kl_loss_coef = 0.001" in run.out
    assert "    data.max_prompt_length = 10240" in run.out
    convert = run.command(f"--ckpt-dir {ckpt}/rwml ")
    assert convert.endswith(
        f"--target-dir {ckpt}/rwml_hf --base-model Qwen/Qwen3-8B --dtype bf16"
    )  # GPU: verl's merger
    # stage 2 starts from the converted stage-1 checkpoint
    stage2 = run.command("--config-name policy_trainer")
    assert f"actor_rollout_ref.model.path={ckpt}/rwml_hf" in stage2
    assert stage2.endswith(f"user_base_url=UNSET_USER_BASE_URL '2>&1 | tee -a {ckpt}/logs/policy.log'")
    assert "evaluate.py" in run.command(f"--out-dir {ckpt}/eval_policy")
    marker_line = f"+ record {ckpt}/eval_policy.done (the stage's commands and inputs)"
    assert f"\n+ kill <server>\n{marker_line}\n\ndry run: nothing was run\n" in run.out
    # what a real run would still need is named, and the dry run created nothing
    assert "a real run would stop here" in run.out
    assert "stage rwml needs EMBED_BASE_URL" in run.out and "stage policy needs USER_BASE_URL" in run.out
    assert not run.data.exists() and not run.ckpt.exists()


def test_bad_override_missing_input_and_unknown_arguments_stop_with_status_2(tmp_path: Path) -> None:
    complete(tmp_path / "data" / "wm_tau2", "train.parquet", "val.parquet")
    run = schedule(
        tmp_path,
        "run_rwml_qwen3_8b.sh --dry-run --from rwml --until rwml",
        RWML_OVERRIDES="reward_model.reward_manager=naive",
        FILTER_EASY="0",
    )
    # the preflight composes and checks the stage config before the first stage, in a dry run too: one line
    assert run.rc == 2 and run.executed == []
    assert run.err.count("\n") == 1 and run.err.startswith("error: stage rwml: reward_model.reward_manager=naive")
    assert "main_rwml" not in run.out
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh --dry-run --from filter")
    assert run.rc == 2 and run.executed == [] and run.err.endswith("error: missing inputs; nothing was run\n")
    assert f"  stage filter needs {run.ckpt}/filter_sft_hf, which is missing (stage filter_convert makes it" in run.err
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh --dry-run --from stage1")
    assert run.rc == 2 and "error: unknown stage 'stage1'; stages of this schedule: collect wm_data " in run.err
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh --dry-run data.train_batch_size=16")
    assert run.rc == 2 and run.err.startswith("usage: bash scripts/run_rwml_qwen3_8b.sh [--dry-run] [--from STAGE]")
    assert "error: unknown argument 'data.train_batch_size=16' (hydra overrides go in RWML_OVERRIDES" in run.err
    run = schedule(tmp_path, "run_policy_rl_baseline.sh --until")
    assert run.rc == 2 and "error: --until needs a stage, flag --until, name one of this schedule's: policy_data " in (
        run.err
    )
    run = schedule(tmp_path, "run_policy_rl_baseline.sh --help")
    assert run.rc == 0 and "stages of this schedule: policy_data policy convert_policy evaluate\n" in run.out


def test_real_runs_refuse_what_this_machine_or_the_settings_cannot_run(tmp_path: Path) -> None:
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh --until wm_data", N_GPUS="64")
    assert run.rc == 2 and run.executed == [] and not run.data.exists()
    assert re.search(r"GPUs: (nvidia-smi not found|N_GPUS=64 but nvidia-smi lists \d+)", run.err)
    assert "  stage collect needs USER_BASE_URL" in run.err
    assert run.err.endswith(
        "error: this machine or these settings cannot run the schedule (see above); nothing was run\n"
    )
    run = schedule(tmp_path, "run_rwml_cpu.sh --until collect", ENV="tau2", FILTER_EASY="1")
    assert run.rc == 2 and run.executed == []
    assert "PLATFORM=cpu: ENV=tau2 needs tool calling" in run.err and "FILTER_EASY" not in run.err


def test_cpu_schedule_dry_run_serves_and_trains_on_the_cpu_backend(tmp_path: Path) -> None:
    """make train-cpu: the GPU schedule's stages with PLATFORM=cpu (no vLLM, no GPU preflight), on the bundled games."""
    model, games = tmp_path / "smollm2_hf", REPO_ROOT / "envs" / "alfworld_games"
    overrides = "actor_rollout_ref.actor.optim.lr=2e-6 trainer.total_epochs=3"
    run = schedule(tmp_path, "run_rwml_cpu.sh --dry-run", MODEL_PATH=str(model), RWML_OVERRIDES=overrides)
    assert run.rc == 0, run.err
    filter_off = {name: "off" for name in ("filter_sft_data", "filter_sft", "filter_convert", "filter")}
    assert run.executed == [st for st in SCHEDULES["rwml_cpu"].plan if st not in filter_off]
    assert {name: run.plan[name] for name in filter_off} == filter_off  # FILTER_EASY=1 switches them on
    assert run.command("make_smollm2_hf").endswith(f"scripts/make_smollm2_hf.py {model}")
    serve = [line for line in run.out.splitlines() if "recipe.rwml.cpu.openai_server" in line]
    assert len(serve) == 1 and "vllm serve" not in run.out  # evaluation, on the CPU server
    collect = run.command("collect_trajectories")  # the expert with 30% random actions: nothing served
    assert f"--env alfworld --data-root {games} --split train" in collect
    assert "--policy expert --epsilon 0.3 --episodes-per-task 2 --max-steps 6 --workers 2" in collect
    # the user's overrides are added after the plan's small-run ones (they win; the plan's stay: the reported
    # `RWML_OVERRIDES='+x=y'` used to drop them, and stage 1 died in verl with 0 training steps), then the console
    # log is kept for the summary table
    stage1 = run.command("main_rwml --config-name rwml_trainer ")
    plan_small = "data.max_response_length=64 trainer.total_training_steps=3"
    assert stage1.endswith(f" {plan_small} {overrides} '2>&1 | tee -a {run.ckpt}/logs/rwml.log'")
    assert "+platform=cpu data.train_batch_size=2 actor_rollout_ref.rollout.n=2" in stage1
    assert re.search(rf"^  RWML_OVERRIDES\s+data\.train_batch_size=2 .* {overrides}$", run.out, re.M)
    assert "    actor_rollout_ref.actor.optim.lr = 2e-06" in run.out and "    trainer.total_epochs = 3" in run.out
    assert "    data.max_prompt_length = 1500" in run.out and "    data.max_response_length = 64" in run.out
    stage2 = run.command("main_rwml --config-name policy_trainer ")
    assert "+platform=cpu" in stage2 and "trainer.total_training_steps=2" in stage2 and "tee -a" in stage2
    assert f"--data-root {games}" in run.command("build_policy_dataset")
    assert "a real run would stop here" not in run.out  # the games are there, the embedder is packaged
    # stage 1 starts from a format warm-up: verl's SFT trainer, 10 steps x 8 triplets at lr 1e-4, from MODEL_PATH on
    # the world-model SFT triplets of the stage-1 train tasks, converted to an HF folder
    assert run.executed.index("sft_data") < run.executed.index("warmup") < run.executed.index("warmup_convert")
    assert run.executed.index("warmup_convert") == run.executed.index("rwml") - 1
    warmup = run.command(f"trainer.default_local_dir={run.ckpt}/warmup ")
    assert "--config-name sft_trainer_cpu " in warmup and f"model.path={model} " in warmup
    assert f"data.train_files={run.data}/sft_alfworld/train.parquet " in warmup
    assert warmup.endswith(
        "data.train_batch_size=8 optim.lr=1e-4 trainer.total_training_steps=10 trainer.total_epochs=10 "
        f"trainer.save_freq=1 trainer.max_ckpt_to_keep=1 '2>&1 | tee -a {run.ckpt}/logs/warmup.log'"
    )  # its console log kept like the GRPO stages' (curves: logs/warmup.png), TensorBoard events beside it
    assert warmup.startswith(f"+ TENSORBOARD_DIR={run.ckpt}/logs/tensorboard/warmup ")
    # the CPU schedule converts in fp32: the next stage trains from it, a few small-lr steps would round away in bf16
    assert run.command(f"--ckpt-dir {run.ckpt}/warmup ").endswith(
        f"--target-dir {run.ckpt}/warmup_hf --base-model {model} --dtype fp32"
    )
    assert f" actor_rollout_ref.model.path={run.ckpt}/warmup_hf " in stage1
    assert f"    actor_rollout_ref.model.path = {run.ckpt}/warmup_hf" in run.out  # the composed config
    run = schedule(tmp_path, "run_wm_sft_cpu.sh --dry-run", MODEL_PATH=str(model))  # the WM-SFT baseline
    assert run.rc == 0, run.err
    assert run.executed == list(SCHEDULES["wm_sft_cpu"].plan) and "warmup" not in run.plan  # SFT itself: no warm-up
    assert "--config-name sft_trainer_cpu " in run.command("verl.trainer.sft_trainer")
    assert f"actor_rollout_ref.model.path={run.ckpt}/wm_sft_hf " in run.command("--config-name policy_trainer ")


def test_format_warmup_is_a_setting_off_by_default_except_on_cpu(tmp_path: Path) -> None:
    """WARMUP_STEPS=0 (the GPU schedules' default): the warm-up stages are off and stage 1 starts from MODEL_PATH,
    its command otherwise the same; stage 2 from the base model never starts from the warm-up; bad values stop."""
    warmup = ("sft_data", "warmup", "warmup_convert")
    on, off = settings(tmp_path, "rwml_cpu"), settings(tmp_path, "rwml_cpu", WARMUP_STEPS="0")
    assert (on["WARMUP_STEPS"], on.stage1_init) == ("10", f"{tmp_path}/ckpt/warmup_hf")
    assert [make_plan(SCHEDULES["rwml_cpu"].stages, off).status[st] for st in warmup] == ["off"] * 3
    (stage1,) = commands(off, "rwml")
    assert f" actor_rollout_ref.model.path={off['MODEL_PATH']} " in stage1 and on.warmup_hf not in stage1
    assert commands(on, "rwml")[0] == stage1.replace(off["MODEL_PATH"], on.warmup_hf)
    assert STAGES["rwml"].inputs(on)[-1] == on.warmup_hf and on.warmup_hf not in STAGES["rwml"].inputs(off)
    # the user's overrides come last; the other SFT stages' SFT_OVERRIDES do not reach the warm-up
    s = settings(tmp_path, "rwml_cpu", WARMUP_STEPS="2", WARMUP_OVERRIDES="data.train_batch_size=2 optim.lr=5e-5")
    (sft,) = commands(s, "warmup")
    assert sft.endswith(
        "trainer.total_training_steps=2 trainer.total_epochs=2 trainer.save_freq=1 trainer.max_ckpt_to_keep=1 "
        "data.train_batch_size=2 optim.lr=5e-5"
    )
    assert f"model.path={s['MODEL_PATH']} " in sft and s["SFT_OVERRIDES"] not in sft
    assert s["FILTER_BASE_MODEL"] == s["MODEL_PATH"]  # the filter's own SFT teaches the format
    # the GPU schedules: the stages are there, off
    for name in ("rwml_qwen3_8b", "rwml_qwen2.5_7b", "rwml_judge_qwen2.5_7b", "rwml_qwen3_30b_a3b"):
        s = settings(tmp_path, name)
        assert s["WARMUP_STEPS"] == "0" and set(warmup) < set(SCHEDULES[name].plan)
        assert [make_plan(SCHEDULES[name].stages, s).status[st] for st in warmup] == ["off"] * 3
        assert f" actor_rollout_ref.model.path={s['MODEL_PATH']} " in commands(s, "rwml")[0]
        s = settings(tmp_path, name, WARMUP_STEPS="5")
        assert [make_plan(SCHEDULES[name].stages, s).status[st] for st in warmup] == ["run"] * 3
        assert "--nproc_per_node 8 -m verl.trainer.sft_trainer data." in commands(s, "warmup")[0]
    base = settings(tmp_path, "policy_rl_baseline", WARMUP_STEPS="5")
    assert f"actor_rollout_ref.model.path={base['MODEL_PATH']} " in commands(base, "policy")[0]
    for bad in ("-1", "ten", "1.5"):
        run = schedule(tmp_path, "run_rwml_cpu.sh --dry-run", WARMUP_STEPS=bad)
        what = f"WARMUP_STEPS={bad} is not a whole number >= 0, environment variable WARMUP_STEPS"
        assert run.rc == 2 and run.out == ""
        assert run.err == f"error: {what}, set WARMUP_STEPS to one, or unset it for the default\n"


# ----------------------------------------------------------------------------------------------- real runs


def test_cpu_stage_really_runs_marks_done_and_is_skipped_on_rerun(tmp_path: Path) -> None:
    from data_prep.collect_trajectories import main as collect

    data = tmp_path / "data"
    episodes = data / "episodes_alfworld" / "train.jsonl"
    args = ["--env", "alfworld", "--data-root", "bundled", "--split", "train", "--policy", "expert"]
    rc = collect([*args, "--epsilon", "0.3", "--episodes-per-task", "2", "--workers", "0", "--out", str(episodes)])
    assert rc == 0 and episodes.stat().st_size > 0
    Path(f"{data}/episodes_alfworld.done").touch()

    env = {"ENV": "alfworld", "EMBED_MODEL": "all-MiniLM-L6-v2"}
    run = schedule(tmp_path, "run_rwml_qwen2.5_7b.sh --until wm_data", **env)
    assert run.rc == 0, run.err
    assert run.executed == ["wm_data"] and run.plan["collect"].startswith("skip (done")
    assert (data / "wm_alfworld" / "train.parquet").is_file() and (data / "wm_alfworld" / "val.parquet").is_file()
    assert Path(f"{data}/wm_alfworld.done").exists()
    assert run.out.endswith(f"\nschedule finished; outputs in {data} and {run.ckpt}\n")
    run = schedule(tmp_path, "run_rwml_qwen2.5_7b.sh --until wm_data", **env)
    assert run.rc == 0, run.err
    assert run.executed == [] and "nothing to run" in run.out
    # the marker records the stage's commands: a rerun with another setting stops instead of skipping the stage (the
    # reported flaw: HISTORY=5 skipped wm_data as done, its output still built with history 2)
    recorded = json.loads(Path(f"{data}/wm_alfworld.done").read_text())
    assert any("--history 2" in c for c in recorded["commands"]) and str(episodes) in recorded["inputs"]
    run = schedule(tmp_path, "run_rwml_qwen2.5_7b.sh --until wm_data", HISTORY="5", **env)
    assert run.rc == 2 and run.executed == []
    assert "stage wm_data is done with other settings or inputs: -2 +5" in run.err
    assert "rerun with --from wm_data" in run.err and "error: done stages were made with other settings" in run.err
    # --from: the old output and its marker are moved aside (a dry run only says so)
    run = schedule(tmp_path, "run_rwml_qwen2.5_7b.sh --dry-run --from wm_data --until wm_data", **env)
    assert run.executed == ["wm_data"] and run.plan["wm_data"] == "run (forced by --from wm_data)"
    assert re.search(rf"^\+ mv {data}/wm_alfworld {data}/wm_alfworld\.bak-\d{{8}}-\d{{6}}$", run.out, re.M)
    assert re.search(rf"^\+ mv {data}/wm_alfworld\.done {data}/wm_alfworld\.done\.bak-\d{{8}}-", run.out, re.M)
    assert Path(f"{data}/wm_alfworld.done").exists()
    (data / "episodes_alfworld" / "train.jsonl").write_text("not json\n")
    run = schedule(tmp_path, "run_rwml_qwen2.5_7b.sh --from wm_data --until wm_data", **env)
    assert run.rc != 0 and "schedule finished" not in run.out  # a failed command stops it, with its status
    assert not Path(f"{data}/wm_alfworld.done").exists() and len(list(data.glob("wm_alfworld*.bak-*"))) == 2


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
server.embed = None  # no /v1/embeddings route (tests/openai_stub.py)
server.responder = lambda req: "<think>I should look around first.</think><action>look</action>"
open({pid_file!r}, "w").write(str(os.getpid()))
server.serve_forever()
"""


def _fake_vllm(tmp_path: Path) -> tuple[Path, Path, str]:
    """`vllm` (the stand-in server on the port it is given, writing its pid to the pid file) and `nvidia-smi` (one
    H100) in `bin_dir`; a free port for it: (bin_dir, pid_file, port)."""
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
    return bin_dir, pid_file, free_port_url().rsplit(":", 1)[1].split("/")[0]


def test_real_collect_stage_serves_the_model_collects_and_stops_the_server(tmp_path: Path) -> None:
    """The GPU-free parts of a real stage: vLLM (a stand-in on the port) started in the background and awaited,
    real ALFWorld episodes collected through it, the server's process group stopped, the stage marked done."""
    bin_dir, pid_file, port = _fake_vllm(tmp_path)
    env = dict(PATH=f"{bin_dir}:{os.environ['PATH']}", VLLM=str(bin_dir / "vllm"), VLLM_PORT=port, N_GPUS="1")
    env |= dict(ALFWORLD_DATA=str(REPO_ROOT / "envs" / "alfworld_games"), COLLECT_WORKERS="0")
    env |= dict(EPISODES_PER_TASK="1", COLLECT_MAX_STEPS="2")
    run = schedule(tmp_path, "run_rwml_qwen2.5_7b.sh --until collect", **env)
    assert run.rc == 0, run.out[-3000:] + run.err[-3000:]
    assert run.executed == ["collect"]
    assert re.search(
        rf"^  server pid \d+, log {run.ckpt}/logs/server-policy-\d{{8}}-\d{{6}}\.log; waiting for "
        rf"http://127\.0\.0\.1:{port}/v1/models$",
        run.out,
        re.M,
    )
    episodes = [line for line in (run.data / "episodes_alfworld" / "train.jsonl").read_text().splitlines() if line]
    train_games = list((REPO_ROOT / "envs" / "alfworld_games" / "json_2.1.1" / "train").iterdir())
    assert len(episodes) == len([g for g in train_games if g.is_dir()])
    assert all('"action": "look"' in e for e in episodes)  # every step came from the served stand-in
    assert Path(f"{run.data}/episodes_alfworld.done").exists()
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert list((run.ckpt / "logs").glob("server-policy-*.log"))


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes (not zombies) whose command line contains `text`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(f"{entry}: {cmdline[:160]}")
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_schedule_leaves_nothing_running_and_a_rerun_loses_and_repeats_nothing(
    sig: signal.Signals, tmp_path: Path
) -> None:
    """The reported failure: SIGTERM to the schedule during `collect` left the collection running under PID 1, and
    the rerun wrote 4 episodes twice. Now the schedule (SIGTERM) or the guard of its command (the schedule killed
    with SIGKILL) stops the collection and the model server; the rerun resumes the file: every episode once."""
    bin_dir, pid_file, port = _fake_vllm(tmp_path)
    data, ckpt = tmp_path / "data", tmp_path / "ckpt"
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path), "DATA_DIR": str(data)}
    env |= dict(CKPT_DIR=str(ckpt), VLLM=str(bin_dir / "vllm"), VLLM_PORT=port, N_GPUS="1", RWML_STOP_GRACE_S="10")
    env |= dict(ALFWORLD_DATA=str(REPO_ROOT / "envs" / "alfworld_games"), COLLECT_WORKERS="0")
    env |= dict(EPISODES_PER_TASK="4", COLLECT_MAX_STEPS="40")
    argv = ["bash", "scripts/run_rwml_qwen2.5_7b.sh", "--until", "collect"]
    episodes = data / "episodes_alfworld" / "train.jsonl"
    with open(tmp_path / "first.log", "w") as log:
        proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240
    while not (episodes.exists() and episodes.read_text().count("\n") >= 2):
        assert proc.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
        assert time.monotonic() < deadline, (tmp_path / "first.log").read_text()[-3000:]
        time.sleep(0.2)
    # a second schedule on the same outputs is refused while this one runs (the reported flaw: both ran)
    second = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 2 and "is being written by another process (pid " in second.stderr, second.stderr
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == (128 + sig if sig != signal.SIGKILL else -signal.SIGKILL)
    deadline = time.monotonic() + 30  # the guard's grace is 10 s
    while _processes_mentioning(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(str(tmp_path)) == []  # collection, its guard and the model server: all gone
    assert not Path(f"{data}/episodes_alfworld.done").exists()
    written = episodes.read_text().count("\n")
    time.sleep(1.0)
    assert episodes.read_text().count("\n") == written  # nothing writes any more

    rerun = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    ids = [json.loads(line)["episode_id"] for line in episodes.read_text().splitlines() if line.strip()]
    assert len(ids) == len(set(ids)) == 3 * 4  # three bundled train games, four episodes each: none lost, none twice
    assert _processes_mentioning(str(tmp_path)) == []


def test_the_dry_run_prints_markers_and_moves_the_way_a_shell_reads_them(tmp_path: Path) -> None:
    """The reported flaw: `touch <dir with a space>/x.done` was printed unquoted."""
    spaced = tmp_path / "my data"
    run = schedule(tmp_path, "run_rwml_qwen3_8b.sh --dry-run --until wm_data", DATA_DIR=str(spaced))
    assert run.rc == 0, run.err
    assert f"+ record '{spaced}/episodes_tau2.done' (the stage's commands and inputs)" in run.out.splitlines()


def test_base_model_marker_stays_out_of_the_users_model_folder_and_a_deleted_output_is_remade(tmp_path: Path) -> None:
    """The reported flaws: the base_model stage wrote `<MODEL_PATH>.done` beside a user's own model folder; and a
    stage done with one of its outputs deleted stayed skipped, though the hint for the missing input says to rerun."""
    model = tmp_path / "my_model"
    model.mkdir()
    run = schedule(tmp_path, "run_rwml_cpu.sh --dry-run", MODEL_PATH=str(model))
    assert run.rc == 0, run.err
    assert f"+ record {run.ckpt}/base_model.done (the stage's commands and inputs)" in run.out.splitlines()
    assert f"{model}.done" not in run.out
    s = settings(tmp_path, "rwml_qwen3_8b", FILTER_EASY="1")
    stage = STAGES["filter"]
    outputs = stage.outputs(s)
    assert len(outputs) == 2
    for out in outputs:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text("x")
    Path(stage.marker_path(s)).touch()
    assert make_plan([stage], s).status["filter"].startswith("skip (done")
    Path(outputs[1]).unlink()  # the score cache deleted: the stage is not done any more
    assert make_plan([stage], s).status["filter"] == "run"


@pytest.mark.slow
def test_a_schedule_stopped_during_its_sft_warm_up_leaves_no_trainer_running(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    """The reported failure: `make train-cpu` stopped during its warm-up left torchrun and verl's SFT trainer running,
    orphaned, and a rerun would have started a second trainer on the same checkpoint folder. SIGTERM to the schedule
    once the SFT ranks run: torchrun, its rank and the schedule are all gone within the grace period."""
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)  # MODEL_PATH that exists is kept: the base_model stage does not convert
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "MODEL_PATH": str(model), "RWML_STOP_GRACE_S": "10"}
    env |= {"DATA_DIR": str(tmp_path / "data"), "CKPT_DIR": str(tmp_path / "ckpt"), "COLLECT_WORKERS": "0"}
    argv = ["bash", "scripts/run_rwml_cpu.sh", "--until", "warmup"]
    with open(tmp_path / "run.log", "w") as log:
        proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while not [p for p in _processes_mentioning(str(tmp_path)) if "verl.trainer.sft_trainer" in p]:
        assert proc.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
        assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()[-3000:]
        time.sleep(0.5)
    time.sleep(3)  # torchrun has started its rank
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    deadline = time.monotonic() + 30
    while _processes_mentioning(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _processes_mentioning(str(tmp_path)) == []
    assert not (tmp_path / "ckpt" / "warmup.done").exists()


@pytest.mark.slow
def test_a_schedule_killed_during_grpo_leaves_no_trainer_or_ray_process(tmp_path: Path, tiny_model_dir: Path) -> None:
    """kill -9 of the schedule while stage 1 trains (main_rwml, its Ray head and workers): the guard of the command
    gets SIGTERM from the kernel and stops the whole session -- nothing of the run is left."""
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "MODEL_PATH": str(model), "RWML_STOP_GRACE_S": "10"}
    env |= {"DATA_DIR": str(tmp_path / "data"), "CKPT_DIR": str(tmp_path / "ckpt"), "COLLECT_WORKERS": "0"}
    env |= {"WARMUP_STEPS": "0"}  # stage 1 straight from MODEL_PATH
    argv = ["bash", "scripts/run_rwml_cpu.sh", "--until", "rwml"]
    with open(tmp_path / "run.log", "w") as log:
        proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 400
    while "Training from scratch" not in (tmp_path / "run.log").read_text(errors="replace"):  # Ray up, workers in
        assert proc.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
        assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()[-3000:]
        time.sleep(1)
    from recipe.rwml.schedule.guard import session_processes

    # the sessions of the run's commands (the guard leads each): Ray's workers are in it though their command lines
    # do not name tmp_path
    sessions = set()
    for line in _processes_mentioning(str(tmp_path)):
        try:
            sessions.add(os.getsid(int(line.split(":", 1)[0])))
        except ProcessLookupError:  # ended since it was listed
            pass
    sessions -= {os.getsid(0), os.getsid(proc.pid)}
    assert sessions and any(len(session_processes(sid)) > 5 for sid in sessions)  # trainer, Ray head, workers
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 60
    while any(session_processes(sid) for sid in sessions) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert [session_processes(sid) for sid in sessions] == [[] for _ in sessions]
    assert _processes_mentioning(str(tmp_path)) == []
    assert not (tmp_path / "ckpt" / "rwml.done").exists()
