"""The CPU backend's compute dtype, threads and start-up settings: chosen from the processor, reaching every engine.

Both dtype paths are checked on any machine: the choice is a function of the CPU's flags (given here as both kinds
of processor), and the composed configs carry whatever the choice or a forced RWML_CPU_DTYPE says. The training
tests (tests/test_cpu_training.py) run stage 1 forced to the dtype this machine does not choose, stage 2 on auto.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from recipe.rwml.cpu.precision import (
    choose_precision,
    compute_threads,
    cpu_flags,
    export_to_workers,
    register_resolvers,
)
from recipe.rwml.train_curves import curves, plot_log

ZEN3 = {"fpu", "sse2", "avx", "avx2", "fma", "f16c"}  # AVX2 + FMA, no native bf16 (AMD EPYC Zen 3)
ZEN4 = ZEN3 | {"avx512f", "avx512bw", "avx512_bf16", "avx512_vnni"}
SAPPHIRE_RAPIDS = ZEN3 | {"avx512f", "amx_tile", "amx_bf16", "amx_int8"}
MIXED = ("param_dtype", "reduce_dtype", "buffer_dtype")
CPU_ENV = {"VERL_PLATFORM": "cpu", "VERL_ENGINE_DEVICE": "cuda", "VERL_USE_EXTERNAL_MODULES": "recipe.rwml.cpu"}
SET = ["actor_rollout_ref.model.path=/m", "data.train_files=/d/train.parquet", "data.val_files=/d/val.parquet"]


@pytest.mark.parametrize(
    ("flags", "dtype", "named"),
    [(ZEN3, "fp32", "no native bf16"), (ZEN4, "bf16", "avx512_bf16"), (SAPPHIRE_RAPIDS, "bf16", "amx_bf16")],
)
def test_auto_picks_bf16_only_where_the_cpu_computes_it_natively(flags: set[str], dtype: str, named: str) -> None:
    precision = choose_precision("auto", flags)
    assert precision.dtype == dtype and named in precision.reason


@pytest.mark.parametrize("forced", ["fp32", "bf16", "FP32 "])
def test_a_setting_forces_either_dtype_on_any_cpu(forced: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RWML_CPU_DTYPE", forced)
    for flags in (ZEN3, ZEN4):
        precision = choose_precision(flags=flags)
        assert precision.dtype == forced.strip().lower() and "forced by RWML_CPU_DTYPE" in precision.reason


def test_a_bad_dtype_or_thread_count_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="RWML_CPU_DTYPE=fp16: expected one of auto, fp32, bf16"):
        choose_precision("fp16")
    monkeypatch.setenv("RWML_CPU_THREADS", "0")
    with pytest.raises(ValueError, match="RWML_CPU_THREADS=0"):
        compute_threads()
    env = {"RWML_CPU_DTYPE": "fp16"}
    assert export_to_workers(env) is None and env == {"RWML_CPU_DTYPE": "fp16"}  # nothing half-exported


def test_cpuinfo_flags_are_read_from_the_first_processor(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512_bf16\n\nflags\t\t: other\n")
    assert cpu_flags(info) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "missing") == set()
    assert cpu_flags() == cpu_flags("/proc/cpuinfo")  # this machine's, whichever kind it is


def test_the_driver_exports_one_choice_and_the_threads_to_every_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"RWML_CPU_THREADS": "3"}
    precision = export_to_workers(env)
    assert env["RWML_CPU_DTYPE"] == precision.dtype == choose_precision().dtype  # resolved, not "auto"
    assert env["OMP_NUM_THREADS"] == env["RWML_CPU_THREADS"] == "3"  # Ray keeps an OMP_NUM_THREADS it inherits
    assert env["RAY_prestart_worker_first_driver"] == "0"
    monkeypatch.delenv("RWML_CPU_THREADS", raising=False)
    import os

    assert compute_threads() == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("forced", ["fp32", "bf16", ""])
def test_every_engine_of_every_cpu_stage_computes_in_the_chosen_dtype(
    forced: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recipe.rwml.compose import compose_stage

    register_resolvers()
    monkeypatch.setenv("RWML_CPU_DTYPE", forced)
    expected = forced or choose_precision("auto").dtype
    for stage in ("rwml", "policy"):
        cfg = compose_stage(stage, [*SET, "+platform=cpu"])
        for role in ("actor", "ref"):
            fsdp = cfg.actor_rollout_ref[role].fsdp_config
            mixed = OmegaConf.to_container(fsdp.mixed_precision, resolve=True)
            assert [mixed[k] for k in MIXED] == [expected, "fp32", "fp32"], (stage, role)
            assert fsdp.use_torch_compile is False  # no inductor C++ build in the first step
        assert cfg.actor_rollout_ref.actor.use_torch_compile is False
        # padded rows, not one packed row under a dense (tokens x tokens) sdpa mask: 2.5x a tiny GRPO step
        assert cfg.actor_rollout_ref.model.use_remove_padding is False
        assert cfg.transfer_queue.backend.SimpleStorage.num_data_storage_units == 1
        assert cfg.ray_kwargs.ray_init.include_dashboard is False
        assert "tensorboard" in cfg.trainer.logger
    sft = compose_sft()
    assert OmegaConf.to_container(sft.engine.mixed_precision, resolve=True)["param_dtype"] == expected
    assert sft.engine.use_torch_compile is False and "tensorboard" in sft.trainer.logger


def compose_sft():
    from hydra import compose, initialize_config_dir

    from recipe.rwml import CONFIG_DIR

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
        return compose("sft_trainer_cpu", overrides=["model.path=/m"])


def test_the_cpu_replay_buffer_is_verls_with_a_short_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    from verl.trainer.ppo.v1.replay_buffer import ReplayBuffer
    from verl.utils.import_utils import load_extern_object

    from recipe.rwml.compose import compose_stage

    cfg = compose_stage("rwml", [*SET, "+platform=cpu"])
    sampler = cfg.trainer.v1.sampler
    cls = load_extern_object(sampler.custom_sampler.path, sampler.custom_sampler.name)  # as verl's trainer loads it
    assert issubclass(cls, ReplayBuffer)
    # the arguments verl's _build_replay_buffer gives a custom sampler
    kwargs = dict(trainer_mode="sync", trainer_config={}, max_off_policy_threshold=8, max_off_policy_strategy="drop")
    buffer = cls(**kwargs, sampler_kwargs=sampler.sampler_kwargs, refill_fn=None)
    assert buffer.poll_interval == 0.2
    assert ReplayBuffer(**kwargs, sampler_kwargs={}, refill_fn=None).poll_interval == 2.0  # verl's, for the record
    with pytest.raises(ValueError, match="poll_interval"):
        cls(**kwargs, sampler_kwargs={"poll_interval": 0}, refill_fn=None)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("algorithm.filter_groups.enable=true", "no group filtering"),
        ("trainer.v1.trainer_mode=separate_async", "trainer_mode=separate_async"),
    ],
)
def test_settings_the_cpu_replay_buffer_cannot_serve_are_refused(
    override: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recipe.rwml.compose import compose_stage
    from recipe.rwml.config_checks import config_problems

    for key, value in CPU_ENV.items():
        monkeypatch.setenv(key, value)
    problems = config_problems(compose_stage("rwml", [*SET, "+platform=cpu", override]), promised=["/d"])
    assert any(message in p.line for p in problems), problems


def test_a_bad_dtype_setting_stops_the_config_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from recipe.rwml.compose import compose_stage
    from recipe.rwml.config_checks import config_problems

    for key, value in CPU_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("RWML_CPU_DTYPE", "half")
    problems = config_problems(compose_stage("rwml", [*SET, "+platform=cpu"]), promised=["/d"])
    assert any("RWML_CPU_DTYPE=half: expected one of auto, fp32, bf16" in p.line for p in problems), problems


GRPO_LOG = "\n".join(
    f"(TaskRunnerV1 pid=1) step:{s} - critic/score/mean:{0.1 * s} - actor/kl_loss:{0.01 * s} - "
    f"response_length/mean:{20 + s} - actor/grad_norm:1.{s} - timing_s/step:{3 + s}"
    for s in (1, 2, 3)
)
SFT_LOG = "\n".join(f"step:{s} - train/loss:{2.0 / s} - train/grad_norm:0.5 - train/lr:0.0001" for s in (1, 2))


def test_each_stage_draws_the_curves_it_logged(tmp_path: Path) -> None:
    grpo, sft = tmp_path / "rwml.log", tmp_path / "warmup.log"
    grpo.write_text(GRPO_LOG)
    sft.write_text(SFT_LOG)
    panels = curves({1: {"critic/score/mean": 0.1}, 2: {"critic/score/mean": 0.3, "train/loss": 1.0}})
    assert panels["reward (mean score)"] == ("critic/score/mean", [1, 2], [0.1, 0.3])
    assert panels["loss"] == ("train/loss", [2], [1.0])
    png = plot_log(grpo)
    assert png == tmp_path / "rwml.png" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot_log(sft).stat().st_size > 1000
    empty = tmp_path / "empty.log"
    empty.write_text("no steps\n")
    assert plot_log(empty) is None and not (tmp_path / "empty.png").exists()
