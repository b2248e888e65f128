"""The tau2-bench user simulator settings: tau2's own `UserSimulator` talking to any OpenAI-compatible endpoint.

tau2 calls the user model through litellm, so a model name with a provider prefix (`openai/<name>` or
`hosted_vllm/<name>`) plus `api_base` reaches a vLLM server, a hosted API or a test stand-in alike. The
settings come from the env constructor and may be overridden per task through `TaskSpec.kwargs`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch of litellm's price list

from tau2.data_model.tasks import Task  # noqa: E402
from tau2.environment.environment import Environment  # noqa: E402
from tau2.user.user_simulator import UserSimulator  # noqa: E402

from envs.user_sim_args import USER_MAX_TOKENS, USER_TEMPERATURE  # noqa: E402


@dataclass(frozen=True)
class UserSimSettings:
    """How to reach the user model; `user_model=None` means no simulated user (offline replays only)."""

    user_model: str | None = None  # litellm name, e.g. "openai/Qwen3-8B" or "hosted_vllm/Qwen3-8B"
    user_base_url: str | None = None  # e.g. "http://127.0.0.1:8000/v1"
    user_api_key: str | None = None  # "EMPTY" is sent when unset (vLLM ignores it; litellm's openai client needs one)
    user_temperature: float = USER_TEMPERATURE
    user_max_tokens: int = USER_MAX_TOKENS  # per reply
    user_timeout: float = 120.0  # seconds per request
    user_num_retries: int = 2  # litellm retries per request (tau2 also re-asks on an empty answer)
    user_seed: int | None = None

    @classmethod
    def keys(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls))

    def updated(self, overrides: dict[str, Any]) -> UserSimSettings:
        """These settings with the `user_*` keys of `overrides` applied (a task's kwargs)."""
        return replace(self, **{k: v for k, v in overrides.items() if k in self.keys()})

    @property
    def configured(self) -> bool:
        return bool(self.user_model)

    def describe(self) -> str:
        return f"user model {self.user_model!r} at {self.user_base_url or 'the provider default endpoint'}"

    def llm_args(self) -> dict[str, Any]:
        """Keyword arguments for tau2's `generate` (passed on to `litellm.completion`)."""
        args: dict[str, Any] = {
            "temperature": float(self.user_temperature),
            "max_tokens": int(self.user_max_tokens),
            "timeout": float(self.user_timeout),
            "num_retries": int(self.user_num_retries),
            "api_key": self.user_api_key or "EMPTY",
        }
        if self.user_base_url:
            args["api_base"] = self.user_base_url.rstrip("/").removesuffix("/chat/completions")
        if self.user_seed is not None:
            args["seed"] = int(self.user_seed)
        return args

    def build(self, environment: Environment, task: Task) -> UserSimulator:
        """tau2's user simulator for `task`, with the domain's user tools where it has them (telecom)."""
        try:
            user_tools = environment.get_user_tools()
        except ValueError:  # the domain gives the user no tools (airline, retail)
            user_tools = None
        return UserSimulator(
            tools=user_tools or None,
            instructions=str(task.user_scenario),
            llm=self.user_model,
            llm_args=self.llm_args(),
        )
