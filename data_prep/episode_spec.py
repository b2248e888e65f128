"""Who plays an episode: the policy's `make_policy` spec and the env's `make_env` keywords, built in one place.

Collection (`data_prep.collect_trajectories`) and evaluation (`recipe.rwml.evaluate`) turn their flags into a
`PolicySettings` and a `UserSimFlags` and ask `episode_spec(env, policy, user)` for the `EpisodeSpec` of each env
their pool jobs play, so the two cannot drift: the same policy settings, the same history window (the table of
`data_prep.history_windows` unless the flags name one), the same tau2 user simulator -- and for the gold policy the
customer's own tool calls (telecom gold actions include the user's device calls, which the env refuses otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from data_prep.history_windows import HISTORY_WINDOW
from data_prep.policies import PolicyError
from envs.user_sim_args import UserSimFlags


@dataclass(frozen=True)
class PolicySettings:
    """The policy flags collection and evaluation share, typed; each CLI builds one from its parsed args."""

    name: str  # openai | expert | random | gold (data_prep.policies.POLICY_NAMES)
    epsilon: float = 0.0  # expert / gold: probability of a perturbed action
    invalid: float = 0.0  # expert: probability of a command the game does not accept then
    expert_source: str = "walkthrough"  # expert: data_prep.policies.EXPERT_SOURCES
    base_url: str | None = None  # openai: the endpoint and the model it serves
    model: str | None = None
    api_key: str = "EMPTY"
    temperature: float = 1.0
    max_tokens: int = 1024  # per turn
    tools_in_prompt: bool = False  # openai, tau2: the tool schemas in the system prompt instead of the API's `tools`
    history_windows: Mapping[str, int | None] = field(default_factory=dict)  # per env; absent or None: the table's


@dataclass(frozen=True)
class EpisodeSpec:
    """What a pool job (`data_prep.play_episode.run_episode_job`) builds: `make_policy(policy)` and
    `make_env(env, **env_kwargs)`."""

    policy: dict[str, Any]
    env_kwargs: dict[str, Any]


def policy_spec(env: str, policy: PolicySettings) -> dict[str, Any]:
    """The JSON-able `data_prep.policies.make_policy` spec of `policy` playing `env`."""
    if policy.invalid and policy.name != "expert":
        raise PolicyError(f"--invalid applies to the expert policy only, not --policy {policy.name}")
    if policy.name == "expert":
        spec = {"name": "expert", "epsilon": policy.epsilon, "source": policy.expert_source}
        # recorded only when used: collections made before the flag existed keep matching their settings file
        return {**spec, "invalid": policy.invalid} if policy.invalid else spec
    if policy.name == "gold":
        return {"name": "gold", "epsilon": policy.epsilon}
    if policy.name == "random":
        return {"name": "random"}
    window = policy.history_windows.get(env)
    return {
        "name": "openai",
        "base_url": policy.base_url,
        "model": policy.model,
        "temperature": policy.temperature,
        "max_tokens": policy.max_tokens,
        "api_key": policy.api_key,
        "history_window": HISTORY_WINDOW.get(env) if window is None else window,  # no window in the table: all steps
        "native_tools": not policy.tools_in_prompt,
    }


def env_kwargs(env: str, policy: str, user: UserSimFlags) -> dict[str, Any]:
    """The `make_env(env, ...)` keywords of an episode `policy` plays: tau2's user simulator, and for the gold policy
    the customer's own tool calls; nothing for ALFWorld (the game files come with the tasks, `TaskSpec.kwargs`)."""
    if env != "tau2":
        return {}
    kw = user.env_kwargs()
    if policy == "gold":
        kw["allow_user_tool_calls"] = True
    return kw


def episode_spec(env: str, policy: PolicySettings, user: UserSimFlags) -> EpisodeSpec:
    """The policy spec and env keywords of `env`'s episodes, as collection and evaluation both hand them to the pool."""
    return EpisodeSpec(policy_spec(env, policy), env_kwargs(env, policy.name, user))
