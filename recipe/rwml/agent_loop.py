"""Stage-2 policy RL: a verl agent loop that plays one ALFWorld game or tau2-bench task per trajectory.

Registered as `rwml_env_agent` (recipe/rwml/config/agent_loop.yaml) and picked per dataset row by `agent_name`.
The row's `extra_info.task` is a `TaskSpec` dict; every sample of a GRPO group comes from the same row, so the
group plays the same game or task. Each turn the model generates through verl's server manager, the action is
parsed (ALFWorld: `<action>` after the reasoning, as in `policy_prompts`; tau2: the native tool call, with verl's
tool parser for `rollout.multi_turn.format`), and the environment is stepped in a worker thread, off the event
loop. The loop stops when the episode is done, after `max_steps` env steps, or when the token budget is spent.

Reward = task success (ALFWorld's goal check; tau2's own evaluator) - `invalid_action_penalty` x invalid actions
(no parsable action, a format violation, or an action the env could not apply). It is returned as the agent loop's
`reward_score`, which verl puts into `rm_scores` and does not recompute in the reward loop.

Two context modes (`actor_rollout_ref.rollout.custom.rwml_env.context`):
- `windowed` (default; the paper's setup): each step's prompt is rebuilt from the task and the last
  `history_window` steps, and each step becomes one training sample carrying the episode's reward. verl 0.9.1's
  v1 trainer (`trainer.use_v1=true`, the default) accepts such multi-output trajectories.
- `multi_turn`: one growing conversation per episode, a single sample: prompt + model tokens (mask 1) +
  observation tokens (mask 0) alternating; `response_length` is the whole episode's budget.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any
from uuid import uuid4

from omegaconf import DictConfig, OmegaConf
from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopMetrics, AgentLoopOutput
from verl.experimental.agent_loop.tool_parser import ToolParser
from verl.utils.rollout_trace import rollout_trace_op

from envs.base import ResetResult, StepResult, TaskSpec, TextEnv
from envs.registry import make_env
from recipe.rwml.policy_prompts import (
    TOOL_CALL_OPEN,
    as_tool_call,
    assistant_message,
    build_policy_messages,
    format_error_message,
    observation_message,
    parse_action,
    strip_reasoning,
    tau2_action_from_calls,
    tool_schemas,
)

logger = logging.getLogger(__name__)
logger.setLevel(os.getenv("VERL_LOGGING_LEVEL", "WARN"))

AGENT_NAME = "rwml_env_agent"
CONFIG_KEY = "rwml_env"  # under actor_rollout_ref.rollout.custom
CONTEXT_MODES = ("windowed", "multi_turn")


# ----------------------------------------------------------------------------------------------- settings


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
            "alfworld": EnvSettings(max_steps=15, history_window=2, max_tokens_per_turn=512),
            "tau2": EnvSettings(max_steps=20, history_window=5, max_tokens_per_turn=1024),
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


# ----------------------------------------------------------------------------------------------- env workers


# Envs whose calls must not overlap across threads: TextWorld's PDDL backend (ALFWorld) parses game files and
# generates feedback text with module-global tatsu parsers, which break when two threads use them at once. Their
# calls take turns within one agent-loop worker; verl's agent-loop workers (rollout.agent.num_workers, separate
# processes) still run in parallel.
SERIAL_ENVS = frozenset({"alfworld"})


class _EnvWorkers:
    """Process-wide threads for env calls and a pool of idle envs, reused across trajectories.

    Each env copy is used by one trajectory at a time. Envs in SERIAL_ENVS share one lock per env kind.
    """

    _lock = threading.Lock()
    _serial: dict[str, threading.Lock] = {name: threading.Lock() for name in SERIAL_ENVS}
    _executor: ThreadPoolExecutor | None = None
    _idle: dict[str, list[TextEnv]] = defaultdict(list)

    @classmethod
    def executor(cls, threads: int) -> ThreadPoolExecutor:
        with cls._lock:
            if cls._executor is None:
                cls._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="rwml-env")
            return cls._executor

    @classmethod
    def call(cls, name: str, fn: Any, *args: Any) -> Any:
        """`fn(*args)`, taking the env kind's lock when its envs are not thread-safe."""
        lock = cls._serial.get(name)
        if lock is None:
            return fn(*args)
        with lock:
            return fn(*args)

    @classmethod
    def acquire(cls, name: str, kwargs: dict[str, Any]) -> TextEnv:
        key = _env_key(name, kwargs)
        with cls._lock:
            if cls._idle[key]:
                return cls._idle[key].pop()
        return make_env(name, **kwargs)

    @classmethod
    def release(cls, name: str, kwargs: dict[str, Any], env: TextEnv, *, healthy: bool) -> None:
        if not healthy:
            try:
                cls.call(name, env.close)
            except Exception:  # noqa: BLE001 - a broken env is dropped either way
                logger.warning("closing a failed %s env raised", name, exc_info=True)
            return
        with cls._lock:
            cls._idle[_env_key(name, kwargs)].append(env)


def _env_key(name: str, kwargs: dict[str, Any]) -> str:
    return f"{name}:{json.dumps(kwargs, sort_keys=True, default=str)}"


# ----------------------------------------------------------------------------------------------- the loop


@dataclass
class _Episode:
    env_name: str
    reset: ResetResult
    observation: str
    admissible: list[str] | None
    info: dict[str, Any]
    history: list[tuple[str | None, str]] = field(default_factory=list)
    steps: int = 0
    invalid: int = 0
    format_errors: int = 0
    success: bool = False
    done: bool = False
    stop_reason: str = "max_steps"
    generate_s: float = 0.0
    env_s: float = 0.0
    server_fields: dict[str, Any] = field(default_factory=dict)  # the server's extra_fields, kept as verl's loops do
    last_server_fields: dict[str, Any] = field(default_factory=dict)


class RWMLEnvAgentLoop(AgentLoopBase):
    """One ALFWorld game or tau2 task per trajectory; reward = success - penalty x invalid actions."""

    def __init__(self, *args: Any, tools: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = LoopSettings.from_config(self.rollout_config.get("custom"))
        self.prompt_length = int(self.rollout_config.prompt_length)
        self.response_length = int(self.rollout_config.response_length)
        self.tool_parser = ToolParser.get_tool_parser(self.rollout_config.multi_turn.format, self.tokenizer)
        if self.settings.context == "windowed" and not self.config.trainer.get("use_v1", True):
            raise ValueError(
                "rwml_env context 'windowed' returns one sample per env step, which only verl's v1 trainer accepts; "
                "set trainer.use_v1=true or actor_rollout_ref.rollout.custom.rwml_env.context=multi_turn"
            )

    @rollout_trace_op
    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput | list[AgentLoopOutput]:
        extra_info = kwargs.get("extra_info") or {}
        if "task" not in extra_info:
            raise ValueError(
                f"dataset row (index {kwargs.get('index')}) has no extra_info.task; "
                "rows for the rwml_env_agent loop come from recipe.rwml.agent_loop.policy_row"
            )
        task = TaskSpec.from_dict(_as_dict(extra_info["task"], "extra_info.task"))
        if task.env not in self.settings.envs:
            raise ValueError(f"no settings for env {task.env!r}; known: {sorted(self.settings.envs)}")
        env_cfg = self.settings.envs[task.env]
        env_kwargs = {**env_cfg.env_kwargs, **_as_dict(extra_info.get("env_kwargs"), "extra_info.env_kwargs")}
        sampling_params = dict(sampling_params)
        if task.env == "tau2" and self.tool_parser.stop_token_ids:
            stops = set(sampling_params.get("stop_token_ids") or []) | set(self.tool_parser.stop_token_ids)
            sampling_params["stop_token_ids"] = sorted(stops)
        priority = int(kwargs.get("priority", 0))
        request_id = uuid4().hex

        env = await self._in_thread(task.env, _EnvWorkers.acquire, task.env, env_kwargs)
        healthy = False
        try:
            reset: ResetResult = await self._in_thread(task.env, env.reset, task)
            ep = _Episode(
                env_name=task.env,
                reset=reset,
                observation=reset.observation,
                admissible=env.admissible_actions,
                info=dict(reset.info),
            )
            if self.settings.context == "windowed":
                outputs = await self._run_windowed(env, ep, env_cfg, sampling_params, request_id, priority)
            else:
                outputs = [await self._run_multi_turn(env, ep, env_cfg, sampling_params, request_id, priority)]
            healthy = True
        finally:
            _EnvWorkers.release(task.env, env_kwargs, env, healthy=healthy)

        reward = float(ep.success) - self.settings.invalid_action_penalty * ep.invalid
        reward_info = {
            "success": float(ep.success),
            "env_steps": ep.steps,
            "invalid_actions": ep.invalid,
            "format_errors": ep.format_errors,
            "invalid_rate": ep.invalid / max(ep.steps, 1),
            "done": float(ep.done),
        }
        for out in outputs:
            out.reward_score = reward
            out.extra_fields["reward_extra_info"] = dict(reward_info)
            out.extra_fields.update(
                {
                    "turn_scores": [],
                    "tool_rewards": [],
                    "env": task.env,
                    "task_id": task.task_id,
                    "stop": ep.stop_reason,
                }
            )
        final = outputs[-1]
        final.num_turns = 1 + 2 * ep.steps
        final.metrics = AgentLoopMetrics(generate_sequences=ep.generate_s, tool_calls=ep.env_s, num_preempted=-1)
        return outputs[0] if self.settings.context == "multi_turn" else outputs

    # ------------------------------------------------------------------------------------------- modes

    async def _run_windowed(
        self,
        env: TextEnv,
        ep: _Episode,
        env_cfg: EnvSettings,
        sampling_params: dict[str, Any],
        request_id: str,
        priority: int,
    ) -> list[AgentLoopOutput]:
        outputs: list[AgentLoopOutput] = []
        tools = tool_schemas(ep.info) if ep.env_name == "tau2" else None
        for _ in range(env_cfg.max_steps):
            prompt_ids = await self._windowed_prompt(ep, env_cfg, tools)
            if prompt_ids is None:
                if not outputs:
                    raise ValueError(
                        f"the first prompt of {ep.env_name} task does not fit rollout.prompt_length="
                        f"{self.prompt_length}; raise data.max_prompt_length"
                    )
                ep.stop_reason = "prompt_budget"
                break
            max_tokens = min(env_cfg.max_tokens_per_turn, self.response_length)
            token_ids, log_probs = await self._generate(
                ep, prompt_ids, sampling_params, max_tokens, request_id, priority
            )
            merge, mask, logprobs = await self.ct_merge_assistant_token(
                prompt_ids, token_ids, [], [] if log_probs else None, assistant_logprobs=log_probs or None
            )
            response_ids = merge.token_ids[len(merge.token_ids) - len(mask) :] if mask else []
            outputs.append(
                AgentLoopOutput(
                    prompt_ids=merge.token_ids[: len(merge.token_ids) - len(mask)],
                    response_ids=response_ids[: self.response_length],
                    response_mask=mask[: self.response_length],
                    response_logprobs=logprobs[: self.response_length] if logprobs else None,
                    num_turns=2,
                    metrics=AgentLoopMetrics(),
                    extra_fields=dict(ep.last_server_fields),
                )
            )
            await self._act(env, ep, token_ids)
            if ep.done:
                break
        return outputs

    async def _windowed_prompt(self, ep: _Episode, env_cfg: EnvSettings, tools: list | None) -> list[int] | None:
        """The step prompt with the configured window, narrowed until it fits `prompt_length`; None if nothing fits."""
        n = len(ep.history)
        widest = n if env_cfg.history_window is None else min(env_cfg.history_window, n)
        for window in range(widest, -1, -1):
            messages = build_policy_messages(
                ep.env_name,
                ep.reset.task,
                ep.reset.observation,
                ep.history,
                ep.observation,
                ep.admissible,
                ep.info,
                window,
                tools_in_prompt=False,
            )
            ids = await self._render(messages, tools)
            if len(ids) <= self.prompt_length:
                return ids
        return None

    async def _render(self, messages: list[dict[str, Any]], tools: list | None) -> list[int]:
        ids = await self.loop.run_in_executor(
            None, lambda: self.continuous_token_builder.build_initial_tokens(messages, tools=tools)
        )
        return list(ids)

    async def _run_multi_turn(
        self,
        env: TextEnv,
        ep: _Episode,
        env_cfg: EnvSettings,
        sampling_params: dict[str, Any],
        request_id: str,
        priority: int,
    ) -> AgentLoopOutput:
        tools = tool_schemas(ep.info) if ep.env_name == "tau2" else None
        messages = build_policy_messages(
            ep.env_name,
            ep.reset.task,
            ep.reset.observation,
            [],
            ep.observation,
            ep.admissible,
            ep.info,
            None,
            tools_in_prompt=False,
        )
        token_ids = await self._render(messages, tools)
        if len(token_ids) > self.prompt_length:
            raise ValueError(
                f"the first prompt of a {ep.env_name} task has {len(token_ids)} tokens, over rollout.prompt_length="
                f"{self.prompt_length}; raise data.max_prompt_length"
            )
        n_prompt = len(token_ids)
        mask: list[int] = []
        logprobs: list[float] | None = None  # kept only while the server returns log-probs
        for t in range(env_cfg.max_steps):
            budget = self.response_length - len(mask)
            if budget <= 0:
                ep.stop_reason = "response_budget"
                break
            max_tokens = min(env_cfg.max_tokens_per_turn, budget)
            gen_ids, gen_logprobs = await self._generate(
                ep, token_ids, sampling_params, max_tokens, request_id, priority
            )
            if t == 0 and gen_logprobs is not None:
                logprobs = []
            merge, mask, logprobs = await self.ct_merge_assistant_token(
                token_ids,
                gen_ids,
                mask,
                logprobs,
                assistant_logprobs=gen_logprobs if logprobs is not None else None,
            )
            token_ids = merge.token_ids
            text = await self._decode(gen_ids)
            action = await self._act(env, ep, gen_ids)
            if ep.done or t == env_cfg.max_steps - 1:
                break
            if len(mask) >= self.response_length:
                ep.stop_reason = "response_budget"
                break
            if ep.env_name == "tau2" and action is not None and as_tool_call(action) is not None:
                messages.append(assistant_message(ep.env_name, action, t, tools_in_prompt=False))
            else:
                messages.append({"role": "assistant", "content": text})
            previous = list(messages)
            messages.append(
                observation_message(ep.env_name, action, ep.observation, t, ep.admissible, tools_in_prompt=False)
            )
            merge, mask, logprobs = await self.ct_merge_context_msg(
                previous, messages, token_ids, mask, logprobs, tools=tools
            )
            token_ids = merge.token_ids
        return AgentLoopOutput(
            prompt_ids=token_ids[:n_prompt],
            response_ids=token_ids[n_prompt:][: self.response_length],
            response_mask=mask[: self.response_length],
            response_logprobs=logprobs[: self.response_length] if logprobs is not None else None,
            num_turns=1 + 2 * ep.steps,
            metrics=AgentLoopMetrics(),
            extra_fields=dict(ep.server_fields),
        )

    # ------------------------------------------------------------------------------------------- one step

    async def _generate(
        self,
        ep: _Episode,
        prompt_ids: list[int],
        sampling_params: dict[str, Any],
        max_tokens: int,
        request_id: str,
        priority: int,
    ) -> tuple[list[int], list[float] | None]:
        start = time.perf_counter()
        out = await self.server_manager.generate(
            request_id=request_id,
            prompt_ids=prompt_ids,
            sampling_params={**sampling_params, "max_tokens": max_tokens},
            priority=priority,
        )
        ep.generate_s += time.perf_counter() - start
        ep.last_server_fields = dict(out.extra_fields or {})
        # the weight versions a multi-turn trajectory spans (verl's v1 trainer reads them from every output)
        if "min_global_steps" not in ep.server_fields:
            ep.server_fields = dict(ep.last_server_fields)
        elif ep.last_server_fields.get("max_global_steps") is not None:
            ep.server_fields["max_global_steps"] = ep.last_server_fields["max_global_steps"]
        return list(out.token_ids), (list(out.log_probs) if out.log_probs else None)

    async def _act(self, env: TextEnv, ep: _Episode, token_ids: list[int]) -> str | None:
        """Parse the generated turn, step the env (in a thread) and update the episode; returns the action."""
        action, ok = await self._parse(ep.env_name, token_ids)
        ep.steps += 1
        if action is None:
            ep.invalid += 1
            ep.format_errors += 1
            ep.observation = format_error_message(ep.env_name)
            ep.history.append((None, ep.observation))
            return None
        start = time.perf_counter()
        result: StepResult = await self._in_thread(ep.env_name, env.step, action)
        ep.env_s += time.perf_counter() - start
        if not ok:
            ep.format_errors += 1
        if not (ok and result.valid):
            ep.invalid += 1
        ep.observation = result.observation
        ep.admissible = env.admissible_actions
        ep.info = {**ep.info, **result.info}
        ep.success = bool(result.success)
        ep.done = bool(result.done)
        if ep.done:
            ep.stop_reason = "done"
        ep.history.append((action, result.observation))
        return action

    async def _parse(self, env_name: str, token_ids: list[int]) -> tuple[str | None, bool]:
        text = await self._decode(token_ids)
        if env_name != "tau2":
            return parse_action(text, env_name)
        visible = strip_reasoning(text)
        n_blocks = visible.count(TOOL_CALL_OPEN)
        if not n_blocks:
            message = visible.strip()
            return (message, True) if message else (None, False)
        _content, calls = await self.tool_parser.extract_tool_calls(token_ids)
        parsed: list[tuple[str, Any] | None] = [(c.name, c.arguments) for c in calls]
        parsed += [None] * max(0, n_blocks - len(parsed))
        return tau2_action_from_calls(parsed, n_blocks=n_blocks)

    async def _decode(self, token_ids: list[int]) -> str:
        return await self.loop.run_in_executor(None, lambda: self.tokenizer.decode(token_ids, skip_special_tokens=True))

    async def _in_thread(self, env_name: str, fn: Any, *args: Any) -> Any:
        executor = _EnvWorkers.executor(self.settings.env_threads)
        return await self.loop.run_in_executor(executor, _EnvWorkers.call, env_name, fn, *args)


# ----------------------------------------------------------------------------------------------- dataset rows


def _as_dict(value: Any, what: str) -> dict[str, Any]:
    """A row field stored as JSON text (parquet-safe) or as a mapping."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            raise ValueError(f"{what} is not valid JSON: {err}") from err
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object, got {type(value).__name__}")
    return dict(value)


def policy_row(
    task: TaskSpec, index: int, *, data_source: str | None = None, goal: str | None = None
) -> dict[str, Any]:
    """One stage-2 dataset row (verl RLHFDataset layout) that makes the agent loop play `task`.

    The `prompt` column only describes the task (the loop builds its own prompts from the env); `data_source`
    groups validation metrics (default: `alfworld`, or `tau2_<domain>` when the task names its domain). The task
    is stored as JSON text: parquet cannot hold an empty struct, and would merge the kwargs of ALFWorld and tau2
    rows into one schema. `env_kwargs` (JSON text too) overrides the env's constructor settings for this row.
    """
    if data_source is None:
        domain = task.kwargs.get("domain")
        data_source = f"{task.env}_{domain}" if domain else task.env
    return {
        "data_source": data_source,
        "prompt": [{"role": "user", "content": goal or f"{task.env} task {task.task_id} ({task.split})"}],
        "ability": "agent",
        "reward_model": {"style": "env", "ground_truth": task.task_id},
        "extra_info": {"index": index, "task": json.dumps(task.to_dict()), "split": task.split},
        "agent_name": AGENT_NAME,
    }
