"""Stage-2 policy RL: a verl agent loop that plays one ALFWorld game or tau2-bench task per trajectory.

Registered as `rwml_env_agent` (recipe/rwml/config/agent_loop.yaml) and picked per dataset row by `agent_name`;
rows come from `data_prep.build_policy_dataset.policy_row`, settings from `recipe.rwml.agent_loop_settings`.
The row's `extra_info.task` is a `TaskSpec` dict; every sample of a GRPO group comes from the same row, so the
group plays the same game or task. Each turn the model generates through verl's server manager, the action is
parsed by the parser collection and evaluation use (`data_prep.policy_actions`: ALFWorld's `<action>` after the
reasoning; tau2's Hermes tool call or a message to the user), and the environment is stepped in a worker thread
(`recipe.rwml.agent_env_threads`), off the event loop. An output with no usable action is not sent to the env: the
agent is answered with the format reminder, as everywhere. The loop stops when the episode is done, after
`max_steps` env steps, or when the token budget is spent.

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
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopMetrics, AgentLoopOutput
from verl.utils.rollout_trace import rollout_trace_op

from data_prep.build_policy_dataset import AGENT_NAME
from data_prep.policy_actions import as_tool_call, format_error_message, parse_action
from data_prep.policy_prompts import assistant_message, build_policy_messages, observation_message, tool_schemas
from envs.base import ResetResult, StepResult, TaskSpec, TextEnv
from recipe.rwml.agent_env_threads import EnvWorkers
from recipe.rwml.agent_loop_settings import EnvSettings, LoopSettings

logger = logging.getLogger(__name__)
logger.setLevel(os.getenv("VERL_LOGGING_LEVEL", "WARN"))

# ----------------------------------------------------------------------------------------------- the loop


@dataclass
class _Episode:
    env_name: str
    reset: ResetResult
    observation: str
    admissible: list[str] | None
    info: dict[str, Any]
    sampling_params: dict[str, Any]  # the trajectory's request to the server: sampling, id, priority
    request_id: str
    priority: int
    tools: list[dict[str, Any]] | None = None  # tau2's tool schemas, for the chat template
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


def _messages(ep: _Episode, window: int | None) -> list[dict[str, Any]]:
    """The policy prompt of the episode's next step with the last `window` steps (tau2 tools go to the template)."""
    return build_policy_messages(
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


class RWMLEnvAgentLoop(AgentLoopBase):
    """One ALFWorld game or tau2 task per trajectory; reward = success - penalty x invalid actions."""

    def __init__(self, *args: Any, tools: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = LoopSettings.from_config(self.rollout_config.get("custom"))
        self.prompt_length = int(self.rollout_config.prompt_length)
        self.response_length = int(self.rollout_config.response_length)
        self.tool_format = self.rollout_config.multi_turn.format
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
                f"rows for the {AGENT_NAME} loop come from data_prep.build_policy_dataset.policy_row"
            )
        task = TaskSpec.from_dict(_as_dict(extra_info["task"], "extra_info.task"))
        if task.env not in self.settings.envs:
            raise ValueError(f"no settings for env {task.env!r}; known: {sorted(self.settings.envs)}")
        env_cfg = self.settings.envs[task.env]
        env_kwargs = {**env_cfg.env_kwargs, **_as_dict(extra_info.get("env_kwargs"), "extra_info.env_kwargs")}
        if task.env == "tau2" and self.tool_format != "hermes":
            raise ValueError(
                f"actor_rollout_ref.rollout.multi_turn.format={self.tool_format}: the tau2 policy prompt and parser "
                "(data_prep.policy_actions) use Hermes tool calls; set it to hermes"
            )

        env = await self._in_thread(task.env, EnvWorkers.acquire, task.env, env_kwargs)
        healthy = False
        try:
            reset: ResetResult = await self._in_thread(task.env, env.reset, task)
            ep = _Episode(
                env_name=task.env,
                reset=reset,
                observation=reset.observation,
                admissible=env.admissible_actions,
                info=dict(reset.info),
                sampling_params=dict(sampling_params),
                request_id=uuid4().hex,
                priority=int(kwargs.get("priority", 0)),
                tools=tool_schemas(reset.info) if task.env == "tau2" else None,
            )
            if self.settings.context == "windowed":
                outputs = await self._run_windowed(env, ep, env_cfg)
            else:
                outputs = [await self._run_multi_turn(env, ep, env_cfg)]
            healthy = True
        finally:
            EnvWorkers.release(task.env, env_kwargs, env, healthy=healthy)

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
    ) -> list[AgentLoopOutput]:
        outputs: list[AgentLoopOutput] = []
        for _ in range(env_cfg.max_steps):
            prompt_ids = await self._windowed_prompt(ep, env_cfg)
            if prompt_ids is None:
                if not outputs:
                    raise ValueError(
                        f"the first prompt of {ep.env_name} task does not fit rollout.prompt_length="
                        f"{self.prompt_length}; raise data.max_prompt_length"
                    )
                ep.stop_reason = "prompt_budget"
                break
            max_tokens = min(env_cfg.max_tokens_per_turn, self.response_length)
            token_ids, log_probs = await self._generate(ep, prompt_ids, max_tokens)
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

    async def _windowed_prompt(self, ep: _Episode, env_cfg: EnvSettings) -> list[int] | None:
        """The step prompt with the configured window, narrowed until it fits `prompt_length`; None if nothing fits."""
        n = len(ep.history)
        widest = n if env_cfg.history_window is None else min(env_cfg.history_window, n)
        for window in range(widest, -1, -1):
            ids = await self._render(ep, _messages(ep, window))
            if len(ids) <= self.prompt_length:
                return ids
        return None

    async def _render(self, ep: _Episode, messages: list[dict[str, Any]]) -> list[int]:
        ids = await self.loop.run_in_executor(
            None, lambda: self.continuous_token_builder.build_initial_tokens(messages, tools=ep.tools)
        )
        return list(ids)

    async def _run_multi_turn(
        self,
        env: TextEnv,
        ep: _Episode,
        env_cfg: EnvSettings,
    ) -> AgentLoopOutput:
        messages = _messages(ep, None)
        token_ids = await self._render(ep, messages)
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
            gen_ids, gen_logprobs = await self._generate(ep, token_ids, max_tokens)
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
                previous, messages, token_ids, mask, logprobs, tools=ep.tools
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
        max_tokens: int,
    ) -> tuple[list[int], list[float] | None]:
        start = time.perf_counter()
        out = await self.server_manager.generate(
            request_id=ep.request_id,
            prompt_ids=prompt_ids,
            sampling_params={**ep.sampling_params, "max_tokens": max_tokens},
            priority=ep.priority,
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
        """The one action parser of collection and evaluation, on the decoded turn (tau2: Hermes tool calls)."""
        return parse_action(await self._decode(token_ids), env_name)

    async def _decode(self, token_ids: list[int]) -> str:
        return await self.loop.run_in_executor(None, lambda: self.tokenizer.decode(token_ids, skip_special_tokens=True))

    async def _in_thread(self, env_name: str, fn: Any, *args: Any) -> Any:
        executor = EnvWorkers.executor(self.settings.env_threads)
        return await self.loop.run_in_executor(executor, EnvWorkers.call, env_name, fn, *args)


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
