"""verl's replay buffer with a configurable poll interval, for the CPU backend's small, fast steps.

verl 0.9.1's `ReplayBuffer.sample` waits for finished rollouts by polling the TransferQueue every 2 s and takes no
setting for it: a CPU step that generates in 0.5 s waits 2 s, and every step loses a second on average. verl loads a
custom sampler class from `trainer.v1.sampler.custom_sampler.{path,name}` and hands it `sampler_kwargs`; this one
reads `poll_interval` from there (recipe/rwml/config/platform/cpu.yaml sets 0.2 s) and is otherwise verl's own.

verl gives a custom sampler only the base arguments, not those of DAPO's group filtering, so a config that enables
`algorithm.filter_groups` with it is refused by the config checks (recipe/rwml/config_checks.py).
"""

from __future__ import annotations

from typing import Any

from verl.trainer.ppo.v1.replay_buffer import ReplayBuffer

DEFAULT_POLL_INTERVAL_S = 0.2


class CPUReplayBuffer(ReplayBuffer):
    """verl's sync replay buffer, polling every `sampler_kwargs.poll_interval` seconds."""

    def __init__(self, *args: Any, sampler_kwargs: Any = None, **kwargs: Any) -> None:
        options = dict(sampler_kwargs or {})
        poll = float(options.get("poll_interval", DEFAULT_POLL_INTERVAL_S))
        if not poll > 0:
            raise ValueError(f"trainer.v1.sampler.sampler_kwargs.poll_interval={poll}: expected seconds > 0")
        super().__init__(*args, sampler_kwargs=sampler_kwargs, poll_interval=poll, **kwargs)
