"""The tau2 user simulator's command-line settings, shared by collection and evaluation.

They become `Tau2Env` constructor keywords (`envs.tau2_user.UserSimSettings`) through `UserSimFlags`, which collection
and evaluation build from their parsed flags (`user_sim_flags`); stage 2 reads the same keys from
`actor_rollout_ref.rollout.custom.rwml_env.envs.tau2.env_kwargs`. Kept apart from `envs.tau2_user` so that a CLI's
`--help` does not import tau2.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from typing import Any

USER_TEMPERATURE = 0.0  # tau2's default, and the paper's for policy RL
# Tokens per user reply: a customer's turn is a few sentences; without a cap a weak user model writes until its
# context is full (minutes per turn on a small server).
USER_MAX_TOKENS = 512


def add_user_sim_args(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--user-model",
        default=None,
        help="tau2 user simulator (litellm name, e.g. openai/Qwen3-8B or hosted_vllm/Qwen3-8B)",
    )
    parser.add_argument("--user-base-url", default=None, help="tau2 user simulator endpoint, e.g. http://host:8001/v1")
    parser.add_argument("--user-api-key", default=None)
    parser.add_argument("--user-temperature", type=float, default=USER_TEMPERATURE)
    parser.add_argument(
        "--user-max-tokens", type=int, default=USER_MAX_TOKENS, help="tau2 user simulator: max tokens per reply"
    )


@dataclass(frozen=True)
class UserSimFlags:
    """The parsed `add_user_sim_args` flags, typed: what collection and evaluation hand to the episode spec."""

    user_model: str | None = None
    user_base_url: str | None = None
    user_api_key: str | None = None
    user_temperature: float = USER_TEMPERATURE
    user_max_tokens: int = USER_MAX_TOKENS

    def env_kwargs(self) -> dict[str, Any]:
        """The `Tau2Env` keywords of these flags (unset ones left to the env's defaults)."""
        if self.user_max_tokens < 1:
            raise ValueError(f"--user-max-tokens must be >= 1, got {self.user_max_tokens}")
        kw: dict[str, Any] = {"user_temperature": self.user_temperature, "user_max_tokens": self.user_max_tokens}
        for key in ("user_model", "user_base_url", "user_api_key"):
            if getattr(self, key):
                kw[key] = getattr(self, key)
        return kw


def user_sim_flags(args: argparse.Namespace) -> UserSimFlags:
    """The `add_user_sim_args` flags of a parsed command line."""
    return UserSimFlags(**{f.name: getattr(args, f.name) for f in fields(UserSimFlags)})
