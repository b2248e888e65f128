"""Write a real verl FSDP actor checkpoint on CPU, for the conversion tests.

The tiny model is wrapped the way verl 0.9.1's FSDP engine wraps the actor
(verl/workers/engine/fsdp/transformer_impl.py: fp32 master weights, bf16/fp32/fp32 mixed precision, verl's
`get_fsdp_wrap_policy` and `get_sharding_strategy`, `init_fn`, a 1-D "fsdp" device mesh), trained with
verl's `build_optimizer` (AdamW) and constant LR schedule, and after each optimizer step saved with verl's own
`FSDPCheckpointManager.save_checkpoint(local_path=.../global_step_N/actor, global_step=N)` with the default
checkpoint contents (model, optimizer, extra). After each save the tracker file is written the way
`RayPPOTrainer._save_checkpoint` writes it.

What differs from a GPU run, and why (nothing in verl is patched):
- the process group is gloo and the device mesh is a "cpu" mesh (verl picks nccl/"cuda" from its platform);
- FSDP1 gets `device_id=torch.device("cpu")` and `sync_module_states=False`: torch's FSDP1 refuses
  `sync_module_states=True` for CPU parameters. Every rank loads the same weights from disk first, which is
  what the broadcast would have ensured;
- FSDP2 skips verl's `fsdp2_load_full_state_dict` (it moves the model to the CUDA device); `fully_shard`
  shards the weights every rank already holds, which is the same end state.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

TRAIN_TEXT = "You are in the middle of a room. go to countertop 1. You pick up the apple 1 from the countertop 1."


def _train_and_save(
    rank: int,
    world_size: int,
    model_dir: str,
    ckpt_dir: str,
    steps: tuple[int, ...],
    strategy: str,
    lr: float,
    init_file: str,
    reference_prefix: str,
) -> None:
    """One rank: wrap; for each step in `steps`, take one optimizer step and save through FSDPCheckpointManager."""
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from verl.trainer.config import CheckpointConfig
    from verl.utils.checkpoint.fsdp_checkpoint_manager import FSDPCheckpointManager
    from verl.utils.fsdp_utils import get_fsdp_full_state_dict
    from verl.utils.torch_functional import get_constant_schedule_with_warmup
    from verl.workers.config.optimizer import FSDPOptimizerConfig, build_optimizer

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    try:
        torch.manual_seed(0)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        module = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        mesh = init_device_mesh("cpu", mesh_shape=(world_size,), mesh_dim_names=("fsdp",))
        model = _wrap(module, mesh, strategy)

        optimizer = build_optimizer(model.parameters(), FSDPOptimizerConfig(lr=lr))
        lr_scheduler = get_constant_schedule_with_warmup(optimizer=optimizer, num_warmup_steps=0)
        manager = FSDPCheckpointManager(
            model=model,
            optimizer=optimizer,
            lr_scheduler=lr_scheduler,
            processing_class=tokenizer,
            checkpoint_config=CheckpointConfig(),
        )
        ids = tokenizer(TRAIN_TEXT, return_tensors="pt").input_ids
        for global_step in steps:
            loss = model(input_ids=ids, labels=ids).loss
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()

            actor_dir = os.path.join(ckpt_dir, f"global_step_{global_step}", "actor")
            manager.save_checkpoint(local_path=actor_dir, global_step=global_step)

            # The weights this checkpoint must hold, gathered by verl's own full-state-dict helper.
            # offload_to_cpu=False: with CPU parameters FSDP1's offload path frees the gathered storage (torch 2.13).
            full_state = get_fsdp_full_state_dict(model, offload_to_cpu=False, rank0_only=True)
            if rank == 0:
                reference = {k: v.detach().clone() for k, v in full_state.items()}
                torch.save(reference, f"{reference_prefix}{global_step}.pt")
                with open(os.path.join(ckpt_dir, "latest_checkpointed_iteration.txt"), "w") as f:
                    f.write(str(global_step))
            dist.barrier()
    finally:
        dist.destroy_process_group()


def _wrap(module: torch.nn.Module, mesh, strategy: str) -> torch.nn.Module:
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
    from torch.distributed.fsdp import MixedPrecision
    from verl.utils.fsdp_utils import apply_fsdp2, get_fsdp_wrap_policy, init_fn
    from verl.workers.engine.fsdp.utils import get_sharding_strategy

    if strategy == "fsdp":
        return FSDP(
            module,
            param_init_fn=init_fn,
            auto_wrap_policy=get_fsdp_wrap_policy(module=module, config={"min_num_params": 0}, is_lora=False),
            device_id=torch.device("cpu"),
            sharding_strategy=get_sharding_strategy(mesh, zero3_enable=True),
            mixed_precision=MixedPrecision(
                param_dtype=torch.bfloat16, reduce_dtype=torch.float32, buffer_dtype=torch.float32
            ),
            sync_module_states=False,
            device_mesh=mesh,
            forward_prefetch=False,
            use_orig_params=False,
        )
    if strategy == "fsdp2":
        from torch.distributed.fsdp import MixedPrecisionPolicy

        mp_policy = MixedPrecisionPolicy(
            param_dtype=torch.bfloat16, reduce_dtype=torch.float32, cast_forward_inputs=True
        )
        fsdp_kwargs = {"mesh": mesh, "mp_policy": mp_policy, "offload_policy": None, "reshard_after_forward": True}
        apply_fsdp2(module, fsdp_kwargs, {"wrap_policy": {"min_num_params": 0}})
        return module
    raise ValueError(f"unknown FSDP strategy {strategy!r} (expected 'fsdp' or 'fsdp2')")


def write_fsdp_checkpoint(
    model_dir: str | Path,
    ckpt_dir: str | Path,
    steps: tuple[int, ...] = (1,),
    world_size: int = 1,
    strategy: str = "fsdp",
    lr: float = 1e-3,
) -> dict[int, dict[str, torch.Tensor]]:
    """Train `model_dir` on `world_size` CPU ranks, saving `ckpt_dir/global_step_N/actor` after each step N.

    Returns, per step, the full fp32 state dict that checkpoint holds. World size 1 runs in this process; larger
    ones are spawned (torch.multiprocessing), one process per rank.
    """
    ckpt_dir = Path(ckpt_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    init_file = ckpt_dir.parent / f".{ckpt_dir.name}_pg_init"
    reference_prefix = str(ckpt_dir.parent / f".{ckpt_dir.name}_reference_step")
    args = (world_size, str(model_dir), str(ckpt_dir), tuple(steps), strategy, lr, str(init_file), reference_prefix)
    try:
        if world_size == 1:
            _train_and_save(0, *args)
        else:
            import torch.multiprocessing as mp

            mp.spawn(_train_and_save, args=args, nprocs=world_size, join=True)
    finally:
        init_file.unlink(missing_ok=True)
    return {step: torch.load(f"{reference_prefix}{step}.pt", weights_only=True) for step in steps}
