"""Fault corpus, area "config": bad overrides and bad schedule settings stop before any GPU is asked for.

`OVERRIDE_ATTACKS`: a stage config composed in-process with one bad hydra override (wrong types, ranges, loggers,
missing files, an embedder that is not there, an endpoint that does not answer) -> the ONE error line
`python -m recipe.rwml.compose` prints (exit 2), which main_rwml and the schedule's preflight print too.
`SCHEDULE_ATTACKS`: bad flags and environment settings of `python -m recipe.rwml.schedule` -> one line, exit 2,
nothing run. Two attacks go end to end through `bash scripts/run_*.sh`. Inputs: tests/fault_corpus/config/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from data_prep.cli_errors import run_cli
from recipe.rwml import compose
from recipe.rwml.schedule import __main__ as schedule_cli
from tests.conftest import REPO_ROOT
from tests.openai_stub import free_port_url

CORPUS = REPO_ROOT / "tests" / "fault_corpus" / "config"
GOOD = [
    "actor_rollout_ref.model.path=/models/Qwen3-8B",  # composition and the checks never open the model
    f"data.train_files={CORPUS / 'train.parquet'}",
    f"data.val_files={CORPUS / 'val.parquet'}",
]
DEAD = free_port_url()  # nothing listens there

# attack -> (stage yaml, override, expected substring of the one error line)
OVERRIDE_ATTACKS = {
    "lr_not_a_number": (
        "rwml_trainer",
        "actor_rollout_ref.actor.optim.lr=fast",
        "not a number (verl's FSDPOptimizerConfig.lr is float), actor_rollout_ref.actor.optim.lr = fast, pass a number",
    ),
    "lr_zero": ("rwml_trainer", "actor_rollout_ref.actor.optim.lr=0", "must be above 0, actor_rollout_ref.actor"),
    "prompt_length_not_a_number": (
        "rwml_trainer",
        "data.max_prompt_length=abc",
        "error: not a whole number, data.max_prompt_length = abc, pass a whole number, e.g. data.max_prompt_length=",
    ),
    "response_length_float": ("rwml_trainer", "data.max_response_length=1.5", "data.max_response_length = 1.5"),
    "negative_batch": (
        "rwml_trainer",
        "data.train_batch_size=-8",
        "error: out of range: must be at least 1, data.train_batch_size = -8, pass a value at least 1",
    ),
    "zero_samples_per_prompt": ("rwml_trainer_tau2", "actor_rollout_ref.rollout.n=0", "rollout.n = 0, pass a value"),
    "samples_not_a_number": (
        "policy_trainer",
        "actor_rollout_ref.rollout.n=x",
        "not a whole number (verl's RolloutConfig.n is int), actor_rollout_ref.rollout.n = x",
    ),
    "temperature_word": ("rwml_trainer", "actor_rollout_ref.rollout.temperature=hot", "RolloutConfig.temperature"),
    "negative_temperature": ("rwml_trainer", "actor_rollout_ref.rollout.temperature=-1", "must be at least 0"),
    "bool_not_bool": (
        "rwml_trainer",
        "actor_rollout_ref.actor.use_kl_loss=maybe",
        "not true or false (verl's FSDPActorConfig.use_kl_loss is bool)",
    ),
    "zero_epochs": ("rwml_trainer", "trainer.total_epochs=0", "trainer.total_epochs = 0"),
    "gpus_word": ("rwml_trainer", "trainer.n_gpus_per_node=eight", "trainer.n_gpus_per_node = eight"),
    "tp_leaves_gpus_idle": (
        "rwml_trainer",
        "actor_rollout_ref.rollout.tensor_model_parallel_size=3",
        "tensor parallelism 3 does not divide the 8 GPUs: 2 would idle",
    ),
    "logger_typo": (
        "rwml_trainer",
        "trainer.logger=[console,wandbb]",
        "error: unknown logger 'wandbb', trainer.logger = [console,wandbb], did you mean wandb?",
    ),
    "missing_train_file": (
        "rwml_trainer",
        "data.train_files=/no/such/train.parquet",
        "the data file /no/such/train.parquet does not exist, data.train_files = /no/such/train.parquet",
    ),
    "batch_larger_than_the_rows": (  # verl would start, find "Total training steps: 0" and divide by zero in fit
        "rwml_trainer",
        f"data.train_files={CORPUS / 'three_rows.parquet'}",
        "is larger than the 3 rows of data.train_files: not one batch to train on",
    ),
    "val_file_is_a_folder": (
        "rwml_trainer",
        f"data.val_files={CORPUS / 'a_folder'}",
        f"the data file {CORPUS / 'a_folder'} is not a file",
    ),
    "missing_embedder_folder": (
        "rwml_trainer",
        "reward.reward_kwargs.model=/no/such/embedder",
        "the embedder folder /no/such/embedder does not exist, reward.reward_kwargs.model = /no/such/embedder",
    ),
    "embedder_not_in_cache": (
        "rwml_trainer",
        "reward.reward_kwargs.model=acme/no-such-embedder",
        "the embedder 'acme/no-such-embedder' is not in the local HF cache",
    ),
    "embedding_endpoint_dead": (
        "rwml_trainer_tau2",
        f"reward.reward_kwargs.base_url={DEAD}",
        f"the embedding endpoint does not answer GET {DEAD}/models, reward.reward_kwargs.base_url = {DEAD}",
    ),
    "embedding_endpoint_placeholder": (
        "rwml_trainer",
        "reward.reward_kwargs.base_url=UNSET_EMBED_BASE_URL",
        "the embedding endpoint is not set, reward.reward_kwargs.base_url = UNSET_EMBED_BASE_URL, set EMBED_BASE_URL",
    ),
    "unknown_key": ("rwml_trainer", "data.no_such_key=1", "Could not override 'data.no_such_key'"),
    "malformed_list": ("rwml_trainer", "trainer.logger=[console", "override trainer.logger=[console"),
    "verl_batch_geometry": (
        "rwml_trainer",
        "data.train_batch_size=3",  # 3 prompts x 8 samples cannot split over 16 GPUs: verl's own validate_config
        "verl rejects the config: real_train_batch_size (24) must be divisible by minimal possible batch size (16)",
    ),
    "judge_endpoint_dead": (
        "rwml_trainer",
        f"++reward.reward_kwargs.judge_base_url={DEAD}",
        f"the judge endpoint does not answer GET {DEAD}/models, reward.reward_kwargs.judge_base_url = {DEAD}",
    ),
}
EXTRA = {
    "verl_batch_geometry": ["trainer.n_gpus_per_node=16", "actor_rollout_ref.actor.use_dynamic_bsz=false"],
    "judge_endpoint_dead": ["reward.reward_kwargs.mode=judge", "++reward.reward_kwargs.judge_model=judge-llm"],
}


@pytest.mark.parametrize("attack", list(OVERRIDE_ATTACKS))
def test_bad_override_is_one_error_line_before_anything_starts(attack: str, capsys: pytest.CaptureFixture) -> None:
    config, override, expected = OVERRIDE_ATTACKS[attack]
    rc = run_cli(compose.main, ["--config-name", config, *GOOD, *EXTRA.get(attack, []), override])
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 2 and out == ""
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert expected in lines[0], lines[0]


def test_every_problem_gets_its_own_line_and_a_good_config_passes(capsys: pytest.CaptureFixture) -> None:
    bad = ["actor_rollout_ref.actor.optim.lr=fast", "data.train_batch_size=-8", "trainer.logger=[wandbb]"]
    assert run_cli(compose.main, ["--config-name", "rwml_trainer", *GOOD, *bad]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines)
    assert ["optim.lr = fast" in lines[0], "train_batch_size = -8" in lines[1], "wandbb" in lines[2]] == [True] * 3
    assert run_cli(compose.main, ["--config-name", "rwml_trainer", *GOOD]) == 0
    assert "    data.train_batch_size = 32" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------------ the schedule

BASE_ENV = {"ENV": "alfworld", "EMBED_MODEL": "all-MiniLM-L6-v2", "FILTER_EASY": "0"}

# attack -> (flags, environment, expected substring of the one error line)
SCHEDULE_ATTACKS = {
    "from_without_stage": (["--dry-run", "--from"], {}, "error: --from needs a stage, flag --from, name one of"),
    "from_eats_a_flag": (["--from", "--dry-run"], {}, "error: --from needs a stage"),
    "until_without_stage": (["--dry-run", "--until"], {}, "error: --until needs a stage"),
    "reversed_range": (
        ["--dry-run", "--from", "rwml", "--until", "collect"],
        {},
        "error: empty range: --until collect comes before --from rwml in this schedule",
    ),
    "unknown_stage": (["--dry-run", "--from", "stage1"], {}, "error: unknown stage 'stage1'"),
    "gpus_word": (["--dry-run"], {"N_GPUS": "abc"}, "error: N_GPUS=abc is not a whole number >= 1, environment var"),
    "gpus_zero": (["--dry-run"], {"N_GPUS": "0"}, "error: N_GPUS=0 is not a whole number >= 1"),
    "tp_zero": (["--dry-run"], {"TP": "0"}, "error: TP=0 is not a whole number >= 1"),
    "tp_leaves_gpus_idle": (
        ["--dry-run"],
        {"TP": "3", "N_GPUS": "8"},
        "error: TP=3 does not divide N_GPUS=8: 2 replica(s) of 3 GPUs would leave GPU(s) 6, 7 idle, environment "
        "variables TP and N_GPUS, set TP to one of 1, 2, 4, 8",
    ),
    "nodes_negative": (["--dry-run"], {"NNODES": "-1"}, "error: NNODES=-1 is not a whole number >= 1"),
    "port_word": (["--dry-run"], {"VLLM_PORT": "http"}, "error: VLLM_PORT=http is not a whole number"),
    "episodes_zero": (["--dry-run"], {"EPISODES_PER_TASK": "0"}, "error: EPISODES_PER_TASK=0 is not a whole number"),
    "epsilon_above_one": (["--dry-run"], {"COLLECT_EPSILON": "2"}, "COLLECT_EPSILON=2 is not a fraction between 0"),
    "filter_flag_word": (["--dry-run"], {"FILTER_EASY": "yes"}, "error: FILTER_EASY=yes is neither 0 nor 1"),
    "unknown_env": (["--dry-run"], {"ENV": "webshop"}, "error: ENV=webshop: expected alfworld or tau2"),
    "bad_rwml_override": (
        ["--dry-run", "--until", "rwml"],
        {"RWML_OVERRIDES": "actor_rollout_ref.actor.optim.lr=fast"},
        "error: stage rwml: not a number (verl's FSDPOptimizerConfig.lr is float), actor_rollout_ref.actor.optim.lr",
    ),
    "missing_embedder_setting": (
        ["--dry-run", "--until", "rwml"],
        {"EMBED_MODEL": "/no/such/embedder"},
        "error: stage rwml: the embedder folder /no/such/embedder does not exist",
    ),
    "dead_embedding_endpoint": (  # a real run (a dry run does not need the servers up yet)
        ["--until", "rwml"],
        {"EMBED_BASE_URL": DEAD},
        f"error: stage rwml: the embedding endpoint does not answer GET {DEAD}/models",
    ),
}


@pytest.mark.parametrize("attack", list(SCHEDULE_ATTACKS))
def test_bad_schedule_setting_is_one_error_line_and_runs_nothing(
    attack: str, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    flags, env, expected = SCHEDULE_ATTACKS[attack]
    monkeypatch.chdir(tmp_path)  # the schedule changes into the repo root; this restores the working directory
    games = str(REPO_ROOT / "envs" / "alfworld_games")
    environ = {**BASE_ENV, "ALFWORLD_DATA": games, "DATA_DIR": str(tmp_path / "d"), "CKPT_DIR": str(tmp_path / "c")}
    environ |= env
    rc = run_cli(lambda argv: schedule_cli.main(argv, environ), ["--plan", "rwml_qwen2.5_7b", *flags])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 2 and len(lines) == 1, err
    assert expected in lines[0], lines[0]
    assert not (tmp_path / "d").exists() and not (tmp_path / "c").exists()


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ("--dry-run --from", {}, "error: --from needs a stage, flag --from"),
        ("--dry-run", {"N_GPUS": "abc"}, "error: N_GPUS=abc is not a whole number >= 1, environment variable N_GPUS"),
    ],
)
def test_run_scripts_end_to_end(tmp_path: Path, args: str, env: dict, expected: str) -> None:
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DATA_DIR": str(tmp_path / "d"), **env}
    proc = subprocess.run(
        ["bash", "scripts/run_rwml_qwen3_8b.sh", *args.split()],
        cwd=REPO_ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [proc.stderr.strip()] and expected in proc.stderr


def test_a_second_trainer_on_the_same_checkpoint_folder_stops_naming_the_first(tmp_path: Path) -> None:
    """One trainer per checkpoint folder (issue 24): while a lock on `trainer.default_local_dir` is held, main_rwml
    stops with one line naming the holder, before Ray starts."""
    from data_prep.output_lock import OutputLock

    ckpt = tmp_path / "ckpt"
    with OutputLock(ckpt):
        cmd = [sys.executable, "-m", "recipe.rwml.main_rwml", "--config-name", "rwml_trainer", *GOOD]
        proc = subprocess.run(
            [*cmd, f"trainer.default_local_dir={ckpt}"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
        )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and f"{ckpt} is being written by another process (pid {os.getpid()}: " in lines[0]
