"""The tau2 user simulator's command-line settings, shared by collection and evaluation.

They become `Tau2Env` constructor keywords (`envs.tau2_user.UserSimSettings`); stage 2 reads the same keys from
`actor_rollout_ref.rollout.custom.rwml_env.envs.tau2.env_kwargs`. Kept apart from `envs.tau2_user` so that a CLI's
`--help` does not import tau2.
"""

from __future__ import annotations

import argparse
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


def user_sim_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The `Tau2Env` keywords of the parsed `add_user_sim_args` flags (unset ones left to the env's defaults)."""
    if args.user_max_tokens < 1:
        raise ValueError(f"--user-max-tokens must be >= 1, got {args.user_max_tokens}")
    kw: dict[str, Any] = {"user_temperature": args.user_temperature, "user_max_tokens": args.user_max_tokens}
    for key in ("user_model", "user_base_url", "user_api_key"):
        if getattr(args, key):
            kw[key] = getattr(args, key)
    return kw


def tau2_env_kwargs(args: argparse.Namespace, policy: str) -> dict[str, Any]:
    """The `Tau2Env` keywords collection and evaluation both give a tau2 episode played by `policy`: the user
    simulator's, and for the gold policy the customer's own tool calls (telecom gold actions include the user's
    device calls, which the env refuses otherwise)."""
    kw = user_sim_kwargs(args)
    if policy == "gold":
        kw["allow_user_tool_calls"] = True
    return kw
