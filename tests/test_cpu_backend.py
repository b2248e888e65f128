"""The CPU backend's parts on their own: the batched HF generator, the verl gaps it patches, the refused configs."""

from __future__ import annotations

import asyncio
import math
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, sft_on_cpu


@pytest.fixture(scope="module")
def generator_parts(tiny_model_dir: Path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    prompts = [
        tokenizer.encode(text)
        for text in ["go to countertop 1", "You open the fridge 1. Task is", "look", "take apple 1 from the countertop"]
    ]
    return model, tokenizer, prompts


def make_generator(model, tokenizer, **kwargs):
    from recipe.rwml.cpu.generator import BatchedGenerator

    return BatchedGenerator(model, [tokenizer.eos_token_id], tokenizer.pad_token_id, **kwargs)


def spec(**kwargs):
    from recipe.rwml.cpu.generator import SamplingSpec

    return SamplingSpec.from_params(kwargs, default_max_tokens=8)


def test_concurrent_requests_share_one_batch_and_match_single_runs(generator_parts) -> None:
    model, tokenizer, prompts = generator_parts
    gen = make_generator(model, tokenizer)

    async def together():
        return await asyncio.gather(*[gen.generate(p, spec(temperature=0, max_tokens=6)) for p in prompts])

    batched = asyncio.run(together())
    assert gen.batch_sizes == [len(prompts)]  # one left-padded batch, not one request at a time
    alone = [
        asyncio.run(make_generator(model, tokenizer).generate(p, spec(temperature=0, max_tokens=6))) for p in prompts
    ]
    for b, a in zip(batched, alone, strict=True):
        assert b.token_ids == a.token_ids
        assert b.log_probs == pytest.approx(a.log_probs, abs=1e-4)


def test_a_group_of_samples_of_one_prompt_is_prefilled_once_and_samples_as_alone(generator_parts) -> None:
    """GRPO's group and the easy-sample filter's K ask one prompt n times: one prefill, n independent samples."""
    model, tokenizer, prompts = generator_parts
    gen = make_generator(model, tokenizer)
    asks = [(prompts[1], seed) for seed in range(6)] + [(prompts[3], seed) for seed in range(2)]

    async def together():
        return await asyncio.gather(*[gen.generate(p, spec(temperature=1.0, seed=s, max_tokens=8)) for p, s in asks])

    grouped = asyncio.run(together())
    assert gen.batch_sizes == [8] and gen.prefilled_rows == 2
    alone = [asyncio.run(make_generator(model, tokenizer).generate(p, spec(temperature=1.0, seed=s, max_tokens=8)))
             for p, s in asks]  # fmt: skip
    for g, a in zip(grouped, alone, strict=True):
        assert g.token_ids == a.token_ids
        assert g.log_probs == pytest.approx(a.log_probs, abs=1e-4)
    assert len({tuple(g.token_ids) for g in grouped[:6]}) > 1  # the rows sample independently after the shared prefill


def test_log_probs_are_the_models_own_under_the_temperature(generator_parts) -> None:
    import torch

    model, tokenizer, prompts = generator_parts
    out = asyncio.run(
        make_generator(model, tokenizer).generate(prompts[0], spec(temperature=0.7, seed=3, max_tokens=8))
    )
    ids = torch.tensor([prompts[0] + out.token_ids])
    with torch.no_grad():
        logits = model(ids).logits[0, len(prompts[0]) - 1 : -1] / 0.7
    expected = torch.log_softmax(logits.float(), -1).gather(1, torch.tensor(out.token_ids)[:, None])[:, 0]
    assert out.log_probs == pytest.approx(expected.tolist(), abs=1e-4)


def test_stop_tokens_and_max_tokens_end_a_request(generator_parts) -> None:
    model, tokenizer, prompts = generator_parts
    free = asyncio.run(make_generator(model, tokenizer).generate(prompts[1], spec(temperature=0, max_tokens=8)))
    assert free.finish_reason == "length" and len(free.token_ids) == 8
    stop = free.token_ids[2]
    cut = asyncio.run(
        make_generator(model, tokenizer).generate(prompts[1], spec(temperature=0, max_tokens=8, stop_token_ids=[stop]))
    )
    first = free.token_ids.index(stop)
    assert cut.token_ids == free.token_ids[: first + 1] and cut.finish_reason == "stop"  # the stop token is kept


def test_seeded_sampling_repeats_and_unseeded_varies(generator_parts) -> None:
    model, tokenizer, prompts = generator_parts
    gen = make_generator(model, tokenizer, seed=1)
    a = asyncio.run(gen.generate(prompts[2], spec(temperature=1.0, seed=7, max_tokens=8)))
    b = asyncio.run(gen.generate(prompts[2], spec(temperature=1.0, seed=7, max_tokens=8)))
    assert a.token_ids == b.token_ids
    draws = {
        tuple(asyncio.run(gen.generate(prompts[2], spec(temperature=1.0, max_tokens=8))).token_ids) for _ in range(4)
    }
    assert len(draws) > 1


def test_unsupported_sampling_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="does not support sampling settings"):
        spec(temperature=1.0, repetition_penalty=1.3)
    assert spec(repetition_penalty=1.0, logprobs=True, max_tokens=4).max_tokens == 4


def test_loaded_weights_change_generation_and_unknown_names_fail(generator_parts, tiny_model_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    _, tokenizer, prompts = generator_parts
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    gen = make_generator(model, tokenizer)
    before = asyncio.run(gen.generate(prompts[0], spec(temperature=0, max_tokens=6)))
    new = {k: torch.randn_like(v) for k, v in model.state_dict().items()}
    asyncio.run(gen.load_state_dict(new))
    assert torch.equal(model.state_dict()["model.norm.weight"], new["model.norm.weight"])
    after = asyncio.run(gen.generate(prompts[0], spec(temperature=0, max_tokens=6)))
    assert after.log_probs != before.log_probs
    with pytest.raises(ValueError, match="does not have"):
        asyncio.run(gen.load_state_dict({"not.a.weight": torch.zeros(1)}))


GAP_PROBE = textwrap.dedent(
    """
    import os
    os.environ["VERL_USE_EXTERNAL_PLUGINS"] = "none"
    os.environ.pop("VERL_PLATFORM", None)
    os.environ.update(RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1", MASTER_PORT=os.environ["PROBE_PORT"])
    import recipe.rwml.cpu  # registers the platform; VERL_PLATFORM is unset, so nothing is patched yet
    os.environ["VERL_PLATFORM"] = "cpu"
    import torch
    import torch.distributed.fsdp as fsdp
    from verl.utils.distributed import initialize_global_process_group_ray
    try:
        initialize_global_process_group_ray()
        print("GAP1 FIXED")
    except ValueError as e:
        print("GAP1 PRESENT" if "Duplicate device type cpu" in str(e) else f"GAP1 OTHER {e}")
    from recipe.rwml.cpu import verl_gaps
    verl_gaps.apply()
    initialize_global_process_group_ray()
    print("PATCH1 OK")
    try:
        m = torch.nn.Linear(4, 4)
        fsdp.fully_shard(m, offload_policy=fsdp.CPUOffloadPolicy(pin_memory=True))
        m(torch.ones(1, 4)).sum().backward()
        pinned_fails = False
    except RuntimeError as e:
        pinned_fails = "accelerator" in str(e)
    import inspect
    from verl.workers.engine.fsdp.transformer_impl import FSDPEngine
    asks_pinned = "CPUOffloadPolicy(pin_memory=True)" in inspect.getsource(FSDPEngine)
    print("GAP2 PRESENT" if pinned_fails and asks_pinned else "GAP2 FIXED")
    from verl.utils.fsdp_utils import CPUOffloadPolicy
    m = torch.nn.Linear(4, 4)
    fsdp.fully_shard(m, offload_policy=CPUOffloadPolicy(pin_memory=True))
    m(torch.ones(1, 4)).sum().backward()
    print("PATCH2 OK")
    """
)


def run_probe(source: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """A probe script in a fresh Python process, with a free port for its process group in PROBE_PORT."""
    import os
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    probe = tmp_path / "probe.py"
    probe.write_text(source)
    env = {**os.environ, "PROBE_PORT": str(port), "PYTHONPATH": str(REPO_ROOT)}
    argv = [sys.executable, str(probe)]
    return subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, env=env)


def test_the_verl_gaps_we_patch_are_still_there_and_the_patches_work(tmp_path: Path) -> None:
    """Fails when a verl release fixes a gap: then drop that patch from recipe/rwml/cpu/verl_gaps.py."""
    proc = run_probe(GAP_PROBE, tmp_path)
    lines = proc.stdout.split()
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "GAP1 PRESENT" in proc.stdout and "PATCH1 OK" in proc.stdout, lines
    assert "GAP2 PRESENT" in proc.stdout and "PATCH2 OK" in proc.stdout, lines


SFT_GAP_PROBE = textwrap.dedent(
    """
    import os
    os.environ["VERL_USE_EXTERNAL_PLUGINS"] = "none"
    os.environ.pop("VERL_PLATFORM", None)
    os.environ.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=os.environ["PROBE_PORT"])
    import recipe.rwml.cpu  # registers the platform; VERL_PLATFORM is unset, so nothing is patched yet
    os.environ["VERL_PLATFORM"] = "cpu"
    import torch.distributed
    import verl.utils.distributed as distributed
    try:
        distributed.initialize_global_process_group()
        print("GAP3 FIXED")
    except ValueError as e:
        print("GAP3 PRESENT" if "Duplicate device type cpu" in str(e) else f"GAP3 OTHER {e}")
    from recipe.rwml.cpu import verl_gaps
    verl_gaps.apply()
    from verl.utils.distributed import initialize_global_process_group  # as verl's run_sft imports it
    ranks = initialize_global_process_group()
    print("PATCH3 OK", ranks, torch.distributed.get_backend())
    """
)


def test_the_sft_trainers_process_group_gap_is_still_there_and_the_patch_works(tmp_path: Path) -> None:
    """verl's torchrun set-up (the SFT trainer's run_sft) asks for "cpu:gloo,cpu:gloo" on the CPU platform; when a
    verl release fixes it, this fails and the patch in recipe/rwml/cpu/verl_gaps.py can go."""
    proc = run_probe(SFT_GAP_PROBE, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "GAP3 PRESENT" in proc.stdout, proc.stdout
    assert "PATCH3 OK (0, 0, 1) gloo" in proc.stdout, proc.stdout


def test_verls_sft_trainer_trains_and_checkpoints_on_cpu(tmp_path: Path, tiny_model_dir: Path) -> None:
    """verl's own SFT trainer (torchrun, recipe/rwml/config/sft_trainer_cpu.yaml) runs 2 steps on the CPU backend:
    the loss is finite and falls, and the checkpoint of the last step is written where verl resumes from."""
    chat = [
        {"role": "user", "content": "go to countertop 1"},
        {"role": "assistant", "content": "<think> </think> <next_state> You arrive at countertop 1. </next_state>"},
    ]
    proc = sft_on_cpu(tiny_model_dir, chat, tmp_path, steps=2, lr=1e-2)
    ckpt = tmp_path / "ckpt"
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    losses = dict(re.findall(r"step:(\d+) - .*?train/loss:([-+.\deE]+)", proc.stdout))
    assert sorted(losses) == ["1", "2"], proc.stdout[-2000:]
    assert math.isfinite(float(losses["2"])) and float(losses["2"]) < float(losses["1"])
    assert (ckpt / "latest_checkpointed_iteration.txt").read_text().strip() == "2"
    assert (ckpt / "global_step_2" / "model_world_size_1_rank_0.pt").is_file()


CPU_OVERRIDES = ["+platform=cpu", "actor_rollout_ref.model.path=/m", "data.train_files=/t", "data.val_files=/v"]


def config_lines(stage: str, overrides: list[str]) -> list[str]:
    """The error lines main_rwml's checks give the composed stage config (CPU_OVERRIDES' data files taken as made)."""
    from recipe.rwml.compose import compose_stage
    from recipe.rwml.config_checks import config_problems

    return [p.line for p in config_problems(compose_stage(stage, overrides), promised=["/t", "/v"])]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("actor_rollout_ref.rollout.name=vllm", "rollout.name=vllm: on the cpu platform use hf"),
        ("actor_rollout_ref.actor.strategy=fsdp", "actor.strategy=fsdp: use fsdp2"),
        ("actor_rollout_ref.rollout.tensor_model_parallel_size=2", "tensor_model_parallel_size=2"),
        ("ray_kwargs.ray_init.num_gpus=0", "ray_kwargs.ray_init.num_gpus=0"),
        ("actor_rollout_ref.model.override_config.attn_implementation=flash_attention_2", "use sdpa"),
    ],
)
def test_unsupported_cpu_settings_are_refused_before_ray(monkeypatch, override: str, message: str) -> None:
    monkeypatch.setenv("VERL_PLATFORM", "cpu")
    monkeypatch.setenv("VERL_ENGINE_DEVICE", "cuda")
    monkeypatch.setenv("VERL_USE_EXTERNAL_MODULES", "recipe.rwml.cpu")
    assert config_lines("rwml", CPU_OVERRIDES) == []  # the CPU set-up itself passes
    lines = config_lines("rwml", [*CPU_OVERRIDES, override])
    assert any(message in line for line in lines), lines


def test_cpu_environment_must_reach_verls_workers(monkeypatch) -> None:
    monkeypatch.setenv("VERL_PLATFORM", "cpu")
    monkeypatch.delenv("VERL_ENGINE_DEVICE", raising=False)
    monkeypatch.setenv("VERL_USE_EXTERNAL_PLUGINS", "none")
    monkeypatch.delenv("VERL_USE_EXTERNAL_MODULES", raising=False)
    lines = "\n".join(config_lines("policy", CPU_OVERRIDES))
    assert "VERL_USE_EXTERNAL_MODULES=recipe.rwml.cpu" in lines
    assert "VERL_ENGINE_DEVICE=cuda" in lines
    monkeypatch.delenv("VERL_PLATFORM")
    assert "needs the CPU platform" in "\n".join(config_lines("policy", ["actor_rollout_ref.rollout.name=hf"]))


def test_stage2_config_serves_one_gpu_per_replica() -> None:
    from recipe.rwml.compose import compose_stage

    cfg = compose_stage("policy", ["actor_rollout_ref.model.path=/m"])
    assert cfg.actor_rollout_ref.rollout.tensor_model_parallel_size == 1
