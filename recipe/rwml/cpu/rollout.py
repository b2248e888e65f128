"""verl rollout backend `hf`: an HF transformers generation server in a Ray actor, fed the actor's weights each step.

verl's pieces, filled in for the CPU:
- `HFReplica` (a `RolloutReplica`, registered as `rollout.name=hf`): starts one `HFRolloutServer` actor per FSDP
  rank beside it (hybrid mode, tensor parallel 1), the way `vLLMReplica` starts vLLM.
- `HFRolloutServer`: verl's token-in/token-out server interface (`generate` -> `TokenOutput`, plus the sleep / wake /
  abort / global-steps controls the trainer calls) over `BatchedGenerator`.
- `HFServerAdapter` (a `BaseRollout`, found by verl's worker through `_ROLLOUT_REGISTRY[("hf", "async")]`): the
  trainer's naive weight sync hands it the actor's full (name, tensor) pairs; it loads them into its server through
  the Ray object store, so the model that generates is the model being trained.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import ray
import torch
from verl.workers.rollout.base import BaseRollout
from verl.workers.rollout.replica import RolloutMode, RolloutReplica, TokenOutput

from recipe.rwml.cpu.generator import BatchedGenerator, SamplingSpec
from recipe.rwml.cpu.precision import choose_precision, use_compute_threads

logger = logging.getLogger(__name__)

ROLLOUT_NAME = "hf"
# A JSONL file to which every server appends a fingerprint of the weights it serves after each sync (tests, debugging).
SYNC_LOG_ENV = "RWML_CPU_SYNC_LOG"


def weight_fingerprint(state: dict[str, torch.Tensor]) -> dict[str, list[float]]:
    """Per tensor: sum and sum of squares in float64; equal weights give equal fingerprints."""
    return {k: [float(v.double().sum()), float(v.double().pow(2).sum())] for k, v in state.items()}


def server_actor_name(replica_rank: int) -> str:
    return f"{ROLLOUT_NAME}_server_{replica_rank}"


class HFRolloutServer:
    """One HF causal LM serving verl's `generate` calls (a Ray actor; async methods run concurrently)."""

    def __init__(self, config: Any, model_config: Any, replica_rank: int) -> None:
        self.config = config
        self.model_config = model_config
        self.replica_rank = replica_rank
        self.global_steps: int | None = None
        self.generator: BatchedGenerator | None = None
        self.weight_syncs = 0

    def launch_server(self) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        use_compute_threads()  # Ray starts actors with OMP_NUM_THREADS=1
        path = self.model_config.get("local_path") or self.model_config.path
        trust = bool(self.model_config.get("trust_remote_code", False))
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust)
        # the dtype the actor computes in (fp32 or bf16, recipe/rwml/cpu/precision.py): the rollout samples from the
        # same numerics verl's old log-probs are computed with
        dtype = choose_precision().torch_dtype
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, trust_remote_code=trust)
        eos = model.generation_config.eos_token_id
        eos_ids = [eos] if isinstance(eos, int) else list(eos or [])
        if tokenizer.eos_token_id is not None:
            eos_ids.append(tokenizer.eos_token_id)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_ids[0]
        max_len = self.config.max_model_len or (self.config.prompt_length + self.config.response_length)
        self.generator = BatchedGenerator(
            model,
            eos_ids,
            pad,
            max_batch_size=int(self.config.max_num_seqs or 64),
            max_model_len=int(max_len),
            seed=int(self.config.seed or 0) + self.replica_rank,
        )

    async def generate(
        self,
        prompt_ids: list[int],
        sampling_params: dict[str, Any],
        request_id: str,
        image_data: Any = None,
        video_data: Any = None,
        audio_data: Any = None,
        mm_processor_kwargs: Any = None,
        priority: int = 0,
        **kwargs: Any,
    ) -> TokenOutput:
        if image_data is not None or video_data is not None or audio_data is not None:
            raise ValueError("the hf CPU rollout serves text only")
        params = dict(sampling_params)
        want_logprobs = bool(params.pop("logprobs", False))
        default_max = min(
            self.config.response_length, self.config.prompt_length + self.config.response_length - len(prompt_ids)
        )
        spec = SamplingSpec.from_params(params, max(1, default_max))
        out = await self.generator.generate(list(prompt_ids), spec)
        return TokenOutput(
            token_ids=out.token_ids,
            log_probs=out.log_probs if want_logprobs else None,
            stop_reason="completed",
            num_preempted=0,
            extra_fields={"global_steps": self.global_steps},
        )

    async def update_weights(
        self, state: dict[str, torch.Tensor], global_steps: int | None = None, trainer_threads: int | None = None
    ) -> int:
        await self.generator.load_state_dict(state)
        self.weight_syncs += 1
        if global_steps is not None:
            self.global_steps = global_steps
        log = os.environ.get(SYNC_LOG_ENV)
        if log:
            record = {
                "replica": self.replica_rank,
                "sync": self.weight_syncs,
                "global_steps": global_steps,
                "tensors": len(state),
                "generate_s": self.generator.busy_s,
                "dtype": str(next(self.generator.model.parameters()).dtype).removeprefix("torch."),
                "server_threads": torch.get_num_threads(),
                "trainer_threads": trainer_threads,  # the FSDP worker's torch threads (Ray's default would be 1)
                "fingerprint": weight_fingerprint(self.generator.model.state_dict()),
            }
            with open(log, "a") as f:
                f.write(json.dumps(record) + "\n")
        return len(state)

    async def set_global_steps(self, global_steps: int) -> None:
        self.global_steps = global_steps

    # Memory controls: nothing is cached between batches on the CPU, so there is nothing to free or restore.
    async def wake_up(self, tags: list[str] | None = None) -> None: ...
    async def sleep(self) -> None: ...
    async def clear_kv_cache(self) -> None: ...
    async def release_kv_cache(self) -> None: ...
    async def resume_kv_cache(self) -> None: ...
    async def wait_for_requests_to_drain(self) -> None: ...
    async def start_profile(self, **kwargs: Any) -> None: ...
    async def stop_profile(self) -> None: ...

    async def abort_all_requests(self, reset_prefix_cache: bool = True, reject_request: bool = False) -> dict:
        return {"aborted_count": 0, "request_ids": []}  # requests finish within their batch; none is partial

    async def resume_generation(self) -> None: ...


class HFReplica(RolloutReplica):
    """One `HFRolloutServer` per rollout replica, beside the FSDP rank that feeds it weights (hybrid mode)."""

    async def launch_servers(self) -> None:
        if self.rollout_mode != RolloutMode.HYBRID:
            raise NotImplementedError(
                f"rollout.name={ROLLOUT_NAME} runs hybrid (trainer and server share the rank); got {self.rollout_mode}"
            )
        if self.world_size != 1:
            raise ValueError(
                f"rollout.name={ROLLOUT_NAME} serves one model copy per rank: set "
                "actor_rollout_ref.rollout.tensor_model_parallel_size=1 (and data/pipeline parallel 1)"
            )
        node_id = await self.workers[0].__ray_call__.remote(lambda self: ray.get_runtime_context().get_node_id())
        server = (
            ray.remote(HFRolloutServer)
            .options(
                name=server_actor_name(self.replica_rank),
                num_cpus=0,
                max_concurrency=self.max_concurrency,
                scheduling_strategy=ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy(
                    node_id=node_id, soft=False
                ),
            )
            .remote(config=self.config, model_config=self.model_config, replica_rank=self.replica_rank)
        )
        await server.launch_server.remote()
        self.servers = [server]
        self._server_handle = server
        self._server_address = f"{ROLLOUT_NAME}-replica-{self.replica_rank}"  # a key for verl's load balancer


class HFServerAdapter(BaseRollout):
    """The trainer-side end of rollout `hf`: loads the actor's weights into this rank's server."""

    def __init__(
        self, config: Any, model_config: Any, device_mesh: Any, *args: Any, replica_rank: int = -1, **kwargs: Any
    ) -> None:
        super().__init__(config, model_config, device_mesh)
        rank = int(os.environ.get("RANK", 0))
        self.replica_rank = rank if replica_rank == -1 else replica_rank  # one replica per rank (TP 1)
        self.server_handle: Any = None
        self.last_sync_s = 0.0

    def _server(self) -> Any:
        if self.server_handle is None:
            self.server_handle = ray.get_actor(server_actor_name(self.replica_rank))
        return self.server_handle

    async def update_weights(
        self, weights: Any, global_steps: int | None = None, wire_format: str = "named_tensors", **kwargs: Any
    ) -> None:
        if wire_format != "named_tensors":
            raise NotImplementedError(f"rollout.name={ROLLOUT_NAME} takes full tensors; got wire_format={wire_format}")
        if kwargs.get("peft_config") is not None:
            raise NotImplementedError(f"rollout.name={ROLLOUT_NAME} does not serve LoRA adapters; merge them")
        start = time.perf_counter()
        state = {}
        for name, tensor in weights:  # every rank iterates: gathering a sharded tensor is a collective
            state[name] = tensor.detach().to("cpu", copy=True)
        await self._server().update_weights.remote(state, global_steps, torch.get_num_threads())
        self.last_sync_s = time.perf_counter() - start
        logger.info(
            "rank %s: %d tensors synced to the hf server in %.2fs", self.replica_rank, len(state), self.last_sync_s
        )

    async def resume(self, tags: list[str]) -> None:
        return None

    async def release(self) -> None:
        return None
