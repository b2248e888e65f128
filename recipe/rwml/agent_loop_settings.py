"""Settings of the stage-2 env agent loop, read from `actor_rollout_ref.rollout.custom.rwml_env`.

Defaults follow the paper: ALFWorld 15 env steps, tau2 20; the steps in a prompt (`history_window`, null in the
yaml) are the table of `data_prep.history_windows` that collection and evaluation read too (ALFWorld 2, tau2 5).
Unknown keys are errors, so a typo in an override stops the run when the loop starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from omegaconf import DictConfig, OmegaConf

from data_prep.history_windows import HISTORY_WINDOW

CONFIG_KEY = "rwml_env"  # under actor_rollout_ref.rollout.custom
CONTEXT_MODES = ("windowed", "multi_turn")


@dataclass
class EnvSettings:
    """Per-environment settings of the loop."""

    max_steps: int
    history_window: int | None
    max_tokens_per_turn: int
    env_kwargs: dict[str, Any] = field(default_factory=dict)  # constructor kwargs (data root, user simulator)


@dataclass
class LoopSettings:
    context: str = "windowed"
    invalid_action_penalty: float = 0.1
    env_threads: int = 32
    envs: dict[str, EnvSettings] = field(
        default_factory=lambda: {
            "alfworld": EnvSettings(max_steps=15, history_window=HISTORY_WINDOW["alfworld"], max_tokens_per_turn=512),
            "tau2": EnvSettings(max_steps=20, history_window=HISTORY_WINDOW["tau2"], max_tokens_per_turn=1024),
        }
    )

    @classmethod
    def from_config(cls, custom: Any) -> LoopSettings:
        """Read `actor_rollout_ref.rollout.custom.rwml_env`; unknown keys are errors, missing ones defaults."""
        where = f"actor_rollout_ref.rollout.custom.{CONFIG_KEY}"
        raw = custom.get(CONFIG_KEY) if custom is not None else None
        if isinstance(raw, DictConfig):
            raw = OmegaConf.to_container(raw, resolve=True)
        raw = dict(raw or {})
        settings = cls()
        env_raw = raw.pop("envs", None) or {}
        for key, value in raw.items():
            if key not in {f.name for f in fields(cls)}:
                raise ValueError(f"{where}: unknown setting {key!r}")
            setattr(settings, key, value)
        for env_name, values in env_raw.items():
            base = settings.envs.get(env_name) or EnvSettings(
                max_steps=30, history_window=None, max_tokens_per_turn=512
            )
            allowed = {f.name for f in fields(EnvSettings)}
            for key, value in (values or {}).items():
                if key not in allowed:
                    raise ValueError(f"{where}.envs.{env_name}: unknown setting {key!r}; expected {sorted(allowed)}")
                setattr(base, key, dict(value) if key == "env_kwargs" else value)
            settings.envs[env_name] = base
        for env_name, env in settings.envs.items():  # null: the window collection and evaluation use
            if env.history_window is None and env_name in HISTORY_WINDOW:
                env.history_window = HISTORY_WINDOW[env_name]
        settings.validate(where)
        return settings

    def validate(self, where: str) -> None:
        if self.context not in CONTEXT_MODES:
            raise ValueError(f"{where}.context: expected one of {CONTEXT_MODES}, got {self.context!r}")
        if self.invalid_action_penalty < 0:
            raise ValueError(f"{where}.invalid_action_penalty must be >= 0, got {self.invalid_action_penalty}")
        for name, env in self.envs.items():
            if env.max_steps < 1 or env.max_tokens_per_turn < 1:
                raise ValueError(f"{where}.envs.{name}: max_steps and max_tokens_per_turn must be >= 1")
            if env.history_window is not None and env.history_window < 0:
                raise ValueError(f"{where}.envs.{name}.history_window must be >= 0 or null")
