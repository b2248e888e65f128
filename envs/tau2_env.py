"""tau2-bench (airline, retail, telecom) as a text environment, built from tau2's own registry, tasks and evaluator.

Episode. `reset` builds the domain environment with `registry.get_env_constructor(domain)()`, applies the task's
initial state, and starts the conversation the tau2 way: the agent's greeting ("Hi! How can I help you today?",
in `info["greeting"]`) goes to tau2's `UserSimulator`, whose answer is the first observation. Without a user
model there is no first user message; the observation then says so (`OFFLINE_OBSERVATION`), which is enough for
scripted replays of the gold actions.

Actions (strings):
- a tool call: JSON `{"name": ..., "arguments": {...}}`, optionally wrapped in `<tool_call>...</tool_call>`.
  It runs against the domain DB through `Environment.get_response`; the observation is the tool's response
  (`state_kind="tool_response"`), `valid=False` when tau2 answers with an error (unknown tool, bad arguments)
  or the JSON is malformed. `"requestor": "user"` runs a *user* tool (telecom: the customer's phone); only
  allowed with `allow_user_tool_calls=True`, for replaying gold trajectories whose actions include the user's.
- anything else: a message to the user; the observation is the simulated user's reply (`state_kind=
  "user_reply"`). Tool calls the simulated user makes on its own device (telecom) run in between, as in tau2's
  orchestrator; the agent sees only the user's text.
- a message containing `###STOP###` (e.g. just "###STOP###"): the agent ends the conversation. No user model
  is needed for it, so an offline replay ends with "<what the user must hear> ###STOP###".

The episode is over when the user ends it (tau2's ###STOP### / ###TRANSFER### / ###OUT-OF-SCOPE###), after a
successful `transfer_to_human_agents`, when the agent stops, or at `max_steps` / `max_errors` when set. Then
tau2's `evaluate_simulation` scores the recorded messages (a `SimulationRun`) exactly as `tau2 run` does
(EvaluationType.ALL): DB hash against the gold actions replayed on a fresh DB, env assertions, action matches,
communicated info, combined per the task's `reward_basis`. None of these needs an LLM, so gold replays score
offline. NL assertions need an LLM judge: tau2 leaves them out of EvaluationType.ALL, and no airline, retail or
telecom task has NL_ASSERTION in its reward basis (airline tasks list assertions but are scored on DB +
COMMUNICATE); a task that did would be scored with ALL_WITH_NL_ASSERTIONS, which calls tau2's configured judge
model (`tau2.config.DEFAULT_LLM_NL_ASSERTIONS`) through litellm. `success` is reward == 1.0.

Info keys. reset: domain, task_id, split, policy (the domain policy text), tools (OpenAI tool schemas),
gold_actions ([{name, arguments, requestor}]), communicate_info, reward_basis, greeting, user_model,
state_kind, done. Every step: state_kind ("tool_response" | "user_reply" | "end"), policy and tools (same
objects as at reset), tool_name / tool_error for tool calls, user_tool_calls (what the simulated user ran);
when done also termination_reason, reward, reward_breakdown, reward_info (tau2's RewardInfo as JSON).
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before tau2 imports litellm

from loguru import logger  # noqa: E402

# tau2 logs every tool response at DEBUG through loguru's stderr sink; its failures reach us as exceptions.
logger.disable("tau2")

from tau2.data_model.message import (  # noqa: E402
    AssistantMessage,
    Message,
    MultiToolMessage,
    ToolCall,
    ToolMessage,
    UserMessage,
)
from tau2.data_model.simulation import RewardInfo, SimulationRun, TerminationReason  # noqa: E402
from tau2.data_model.tasks import RewardType, Task  # noqa: E402
from tau2.environment.environment import Environment  # noqa: E402
from tau2.evaluator.evaluator import EvaluationType, evaluate_simulation  # noqa: E402
from tau2.orchestrator.orchestrator import DEFAULT_FIRST_AGENT_MESSAGE  # noqa: E402
from tau2.registry import registry  # noqa: E402
from tau2.user.user_simulator import UserSimulator, UserState  # noqa: E402
from tau2.utils.utils import get_now  # noqa: E402

from envs.base import EnvError, ResetResult, StepResult, TaskSpec, TextEnv  # noqa: E402
from envs.tau2_tasks import DOMAINS, STOP_TOKEN, TRANSFER_TOOL, get_tau2_task  # noqa: E402
from envs.tau2_user import UserSimSettings  # noqa: E402
from envs.user_sim_args import USER_MAX_TOKENS, USER_TEMPERATURE  # noqa: E402

GREETING = DEFAULT_FIRST_AGENT_MESSAGE.content
OFFLINE_OBSERVATION = "[no user simulator configured: the customer's first message was not simulated]"
_TOOL_CALL_RE = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)
_ENV_KEYS = frozenset({"domain"})


# ----------------------------------------------------------------------------------------------- actions


@dataclass
class ParsedAction:
    kind: str  # "tool" | "message" | "invalid"
    text: str = ""  # the message, or why the action is invalid
    name: str = ""
    arguments: dict[str, Any] | None = None
    requestor: str = "assistant"


def parse_action(action: str) -> ParsedAction:
    """Split an action string into a tool call, a message to the user, or an invalid (malformed) tool call."""
    text = (action or "").strip()
    if not text:
        return ParsedAction("invalid", "empty action: send a message to the user or a tool call")
    n_open = text.count("<tool_call>")
    if n_open:
        match = _TOOL_CALL_RE.fullmatch(text)
        if n_open > 1 or match is None:
            return ParsedAction("invalid", "a tool call must be the whole action, one <tool_call>...</tool_call>")
        body = match.group(1)
    elif text.startswith("{") and text.endswith("}"):
        body = text
    else:
        return ParsedAction("message", text)
    try:
        call = json.loads(body)
    except json.JSONDecodeError as err:
        return ParsedAction("invalid", f"the tool call is not valid JSON: {err}")
    if not isinstance(call, dict) or not isinstance(call.get("name"), str) or not call["name"]:
        return ParsedAction("invalid", 'a tool call must be a JSON object {"name": ..., "arguments": {...}}')
    arguments = call.get("arguments", {})
    if isinstance(arguments, str):  # OpenAI-style arguments as JSON text
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as err:
            return ParsedAction("invalid", f"the tool call's arguments are not valid JSON: {err}")
    if not isinstance(arguments, dict):
        return ParsedAction("invalid", "the tool call's arguments must be a JSON object")
    requestor = call.get("requestor", "assistant")
    if requestor not in ("assistant", "user"):
        return ParsedAction("invalid", f"requestor must be 'assistant' or 'user', got {requestor!r}")
    return ParsedAction("tool", name=call["name"], arguments=arguments, requestor=requestor)


# ----------------------------------------------------------------------------------------------- env


class Tau2Env(TextEnv):
    """One tau2-bench task at a time; tools run on the domain DB, messages go to tau2's user simulator."""

    name = "tau2"

    def __init__(
        self,
        domain: str | None = None,
        *,
        user_model: str | None = None,
        user_base_url: str | None = None,
        user_api_key: str | None = None,
        user_temperature: float = USER_TEMPERATURE,
        user_max_tokens: int = USER_MAX_TOKENS,
        user_timeout: float = 120.0,
        user_num_retries: int = 2,
        user_seed: int | None = None,
        max_steps: int | None = None,
        max_errors: int | None = None,
        allow_user_tool_calls: bool = False,
        max_user_tool_rounds: int = 20,
    ) -> None:
        if domain is not None and domain not in DOMAINS:
            raise EnvError(f"unknown tau2 domain {domain!r}; expected one of {', '.join(DOMAINS)}")
        self.domain = domain
        self.user_settings = UserSimSettings(
            user_model=user_model,
            user_base_url=user_base_url,
            user_api_key=user_api_key,
            user_temperature=user_temperature,
            user_max_tokens=user_max_tokens,
            user_timeout=user_timeout,
            user_num_retries=user_num_retries,
            user_seed=user_seed,
        )
        self.max_steps = max_steps
        self.max_errors = max_errors
        self.allow_user_tool_calls = allow_user_tool_calls
        self.max_user_tool_rounds = max_user_tool_rounds
        self._env: Environment | None = None
        self._task: Task | None = None
        self._done = True

    # -- episode ---------------------------------------------------------------------------------

    def reset(self, task: TaskSpec) -> ResetResult:
        if task.env != "tau2":
            raise EnvError(f"Tau2Env cannot play a {task.env!r} task ({task.task_id})")
        unknown = set(task.kwargs) - _ENV_KEYS - UserSimSettings.keys()
        if unknown:
            raise EnvError(f"tau2 task {task.task_id}: unknown kwargs {sorted(unknown)}")
        domain = task.kwargs.get("domain") or self.domain
        if not domain:
            raise EnvError(f"tau2 task {task.task_id} names no domain (TaskSpec.kwargs['domain'])")
        tau2_task = get_tau2_task(domain, task.task_id)
        initial = tau2_task.initial_state
        if initial is not None and initial.message_history:
            raise EnvError(f"tau2 {domain} task {task.task_id} starts from a message history; not supported")

        self._domain, self._task, self._spec = domain, tau2_task, task
        self._settings = self.user_settings.updated(task.kwargs)
        self._env = registry.get_env_constructor(domain)()
        self._env.set_state(
            initialization_data=initial.initialization_data if initial else None,
            initialization_actions=initial.initialization_actions if initial else None,
            message_history=[],
        )
        self._tools = [t.openai_schema for t in self._env.get_tools()]
        self._trajectory: list[Message] = [AssistantMessage(role="assistant", content=GREETING, timestamp=get_now())]
        self._steps = self._errors = self._calls = 0
        self._start = time.perf_counter()
        self._start_time = get_now()
        self._done = True  # until the first user turn has worked
        self._user: UserSimulator | None = None
        self._user_state: UserState | None = None

        criteria = tau2_task.evaluation_criteria
        info: dict[str, Any] = {
            "domain": domain,
            "task_id": task.task_id,
            "split": task.split,
            "policy": self._env.get_policy(),
            "tools": self._tools,
            "gold_actions": [
                {"name": a.name, "arguments": deepcopy(a.arguments), "requestor": a.requestor}
                for a in (criteria.actions or [] if criteria else [])
            ],
            "communicate_info": list(criteria.communicate_info or []) if criteria else [],
            "reward_basis": [b.value for b in criteria.reward_basis] if criteria else [],
            "greeting": GREETING,
            "user_model": self._settings.user_model,
        }
        if self._settings.configured:
            self._user = self._settings.build(self._env, tau2_task)
            self._user_state = self._user.get_init_state()
            reply, user_calls = self._user_turn(self._trajectory[0])
            observation, info["state_kind"], info["user_tool_calls"] = reply.content or "", "user_reply", user_calls
            self._done = False
            if UserSimulator.is_stop(reply):  # the user hung up at once; nothing for the agent to do
                self._finish(TerminationReason.USER_STOP, "user_stop", info)
        else:
            observation, info["state_kind"] = OFFLINE_OBSERVATION, "offline"
            self._done = False
        info["done"] = self._done
        task_line = (
            f"tau2-bench {domain} task {task.task_id}: you are the {domain} customer-service agent; help the "
            "customer following the domain policy, with the domain tools."
        )
        return ResetResult(observation=observation, task=task_line, info=info)

    def step(self, action: str) -> StepResult:
        if self._env is None or self._done:
            raise EnvError("the tau2 episode is over (or was never started); call reset()")
        self._steps += 1
        info: dict[str, Any] = {"policy": self._env.get_policy(), "tools": self._tools}
        parsed = parse_action(action)
        if parsed.kind == "invalid":
            self._errors += 1
            observation, valid, info["state_kind"] = f"Error: {parsed.text}", False, "tool_response"
        elif parsed.kind == "tool":
            observation, valid = self._tool_step(parsed, info)
        elif STOP_TOKEN in parsed.text:
            self._trajectory.append(AssistantMessage(role="assistant", content=parsed.text, timestamp=get_now()))
            observation, valid, info["state_kind"] = "", True, "end"
            self._finish(TerminationReason.AGENT_STOP, "agent_stop", info)
        else:
            observation, valid = self._message_step(parsed.text, info)

        if not self._done and self.max_errors is not None and self._errors >= self.max_errors:
            self._finish(TerminationReason.TOO_MANY_ERRORS, "too_many_errors", info)
        if not self._done and self.max_steps is not None and self._steps >= self.max_steps:
            self._finish(TerminationReason.MAX_STEPS, "max_steps", info)
        reward = float(info.get("reward", 0.0))
        return StepResult(observation, reward, self._done, self._done and reward == 1.0, valid, info)

    def _tool_step(self, parsed: ParsedAction, info: dict[str, Any]) -> tuple[str, bool]:
        info["state_kind"], info["tool_name"] = "tool_response", parsed.name
        if parsed.requestor == "user" and not self.allow_user_tool_calls:
            self._errors += 1
            info["tool_error"] = True
            return f"Error: '{parsed.name}' is a user tool; only the user can run it on their device.", False
        call = self._new_call(parsed.name, parsed.arguments or {}, parsed.requestor)
        sender = UserMessage if parsed.requestor == "user" else AssistantMessage
        self._trajectory.append(sender(role=parsed.requestor, tool_calls=[call], timestamp=get_now()))
        response = self._env.get_response(call)
        self._env.sync_tools()
        self._trajectory.append(response)
        info["tool_error"] = response.error
        if response.error:
            self._errors += 1
        elif parsed.name == TRANSFER_TOOL and parsed.requestor == "assistant":
            # In tau2 the simulated user answers a transfer with ###TRANSFER###, ending the run as user_stop.
            self._finish(TerminationReason.USER_STOP, "transfer", info)
        return response.content or "", not response.error

    def _message_step(self, text: str, info: dict[str, Any]) -> tuple[str, bool]:
        if self._user is None:
            raise EnvError(
                "the agent sent a message to the user, but no user simulator is configured: pass user_model "
                "(e.g. 'openai/<name>' or 'hosted_vllm/<name>') and user_base_url to Tau2Env or in TaskSpec.kwargs"
            )
        message = AssistantMessage(role="assistant", content=text, timestamp=get_now())
        self._trajectory.append(message)
        reply, user_calls = self._user_turn(message)
        info["state_kind"], info["user_tool_calls"] = "user_reply", user_calls
        if UserSimulator.is_stop(reply):
            self._finish(TerminationReason.USER_STOP, "user_stop", info)
        return reply.content or "", True

    def _user_turn(self, message: AssistantMessage) -> tuple[UserMessage, list[dict[str, Any]]]:
        """The simulated user's next text message; tool calls it makes on its own device run in between."""
        user_calls: list[dict[str, Any]] = []
        incoming: AssistantMessage | ToolMessage | MultiToolMessage = message
        for _ in range(self.max_user_tool_rounds + 1):
            try:
                reply, self._user_state = self._user.generate_next_message(incoming, self._user_state)
            except Exception as err:  # litellm raises many types (connection, timeout, HTTP status, bad JSON)
                self._done = True  # the conversation cannot go on
                raise EnvError(f"tau2 user simulator failed ({self._settings.describe()}): {err}") from err
            if not (reply.has_text_content() or reply.is_tool_call()):
                self._done = True
                raise EnvError(f"tau2 user simulator returned an empty message ({self._settings.describe()})")
            self._trajectory.append(reply)
            if not reply.is_tool_call():
                return reply, user_calls
            responses = []
            for call in reply.tool_calls:
                response = self._env.get_response(call)
                responses.append(response)
                user_calls.append({"name": call.name, "arguments": call.arguments, "error": response.error})
            self._env.sync_tools()
            self._trajectory.extend(responses)
            incoming = responses[0] if len(responses) == 1 else MultiToolMessage(role="tool", tool_messages=responses)
        self._done = True
        raise EnvError(f"the simulated user made more than {self.max_user_tool_rounds} rounds of tool calls in a row")

    def _new_call(self, name: str, arguments: dict[str, Any], requestor: str) -> ToolCall:
        self._calls += 1
        return ToolCall(id=f"call_{self._calls}", name=name, arguments=arguments, requestor=requestor)

    # -- evaluation ------------------------------------------------------------------------------

    def _finish(self, reason: TerminationReason, label: str, info: dict[str, Any]) -> None:
        self._done = True
        reward_info = self.evaluate(reason)
        info["termination_reason"] = label
        info["reward"] = float(reward_info.reward)
        info["reward_breakdown"] = {
            (k.value if isinstance(k, RewardType) else str(k)): float(v)
            for k, v in (reward_info.reward_breakdown or {}).items()
        }
        info["reward_info"] = reward_info.model_dump(mode="json")

    def simulation_run(self, reason: TerminationReason) -> SimulationRun:
        """The episode so far as tau2's `SimulationRun` (what `tau2 run` saves and evaluates)."""
        messages = []
        for i, msg in enumerate(self._trajectory):
            msg = msg.model_copy(deep=True)
            msg.turn_idx = i
            messages.append(msg)
        return SimulationRun(
            id=str(uuid.uuid4()),
            task_id=self._task.id,
            start_time=self._start_time,
            end_time=get_now(),
            duration=time.perf_counter() - self._start,
            termination_reason=reason,
            messages=messages,
            seed=self._settings.user_seed,
        )

    def evaluate(self, reason: TerminationReason = TerminationReason.AGENT_STOP) -> RewardInfo:
        """tau2's own evaluation of the recorded messages, as if the run had ended for `reason`."""
        if self._task is None:
            raise EnvError("no tau2 task has been reset")
        basis = set(self._task.evaluation_criteria.reward_basis) if self._task.evaluation_criteria else set()
        kind = EvaluationType.ALL_WITH_NL_ASSERTIONS if RewardType.NL_ASSERTION in basis else EvaluationType.ALL
        try:
            return evaluate_simulation(self.simulation_run(reason), self._task, kind, False, self._domain)
        except Exception as err:
            raise EnvError(f"tau2 evaluation of {self._domain} task {self._task.id} failed: {err}") from err

    def db_hash(self) -> str | None:
        """tau2's hash of the agent-side domain DB now (what the DB check compares)."""
        if self._env is None:
            raise EnvError("no tau2 task has been reset")
        return self._env.get_db_hash()

    @property
    def trajectory(self) -> list[Message]:
        """The tau2 messages recorded so far (greeting, tool calls and responses, user turns)."""
        return list(self._trajectory) if self._env is not None else []

    def close(self) -> None:
        self._env = self._user = self._user_state = None
        self._done = True
