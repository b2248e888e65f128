"""Policies that play episodes for trajectory collection.

- `openai`: any OpenAI-compatible chat endpoint (vLLM in production), prompted and parsed exactly as the stage-2
  agent loop does (`data_prep.policy_prompts`, `data_prep.policy_actions`; tau2 tools passed natively), so
  collected behaviour matches the policy being trained. Evaluation uses the same client.
- `expert` (ALFWorld): the game's stored walkthrough, then alfworld's handcoded expert (or the handcoded expert
  only), replaced with probability epsilon by a random admissible action, so episodes hold both successes and
  failures; and with probability `invalid` by a command the game does not accept at that point (one it offered
  earlier in the episode), so episodes also hold ALFWorld's "Nothing happens.".
- `random` (ALFWorld): a uniformly random admissible action.
- `gold` (tau2): replays the task's gold actions (`envs.tau2_tasks.gold_action_strings`: the tool calls,
  then what the user must hear, then ###STOP###), each tool call perturbed with probability epsilon
  (dropped, an argument corrupted, or swapped for another tool).

Every policy returns `(raw_output, action)`; scripted policies explain their choice in `raw_output`. `action` is
None when a model's output holds no usable action (`data_prep.play_episode` then answers with the format reminder and
does not step the env).
Randomness comes from a per-episode seed so a resumed or re-sharded run makes the same choices.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any, Protocol

from envs.episode import StepRecord

STOP_ACTION = "###STOP###"


class PolicyError(RuntimeError):
    """The policy cannot act (endpoint unreachable, wrong policy for the env, ...)."""


@dataclass
class PolicyContext:
    env: str
    task: str
    initial_observation: str
    history: list[StepRecord]
    observation: str
    admissible: list[str] | None
    info: dict[str, Any] = field(default_factory=dict)  # the env's latest info (expert action, gold actions, tools)


class Policy(Protocol):
    def reset(self, seed: int) -> None: ...

    def act(self, ctx: PolicyContext) -> tuple[str, str | None]: ...

    def metadata(self) -> dict[str, Any]: ...


EXPERT_SOURCES = ("walkthrough", "handcoded")


class AlfworldExpertPolicy:
    """An ALFWorld expert with an epsilon of random admissible actions and a share `invalid` of inadmissible ones.

    `source="walkthrough"` (default) follows the game's stored solution while the episode is still on it, then
    alfworld's handcoded expert: the walkthrough knows where objects are, the handcoded expert searches
    receptacles one by one and can run out of steps (pick_two games especially). `source="handcoded"` uses the
    handcoded expert throughout. A random action (epsilon) leaves the walkthrough for good, since the stored
    solution assumes the agent is where it left it.

    An inadmissible action (`invalid`) is a command the game offered earlier in the episode and does not offer now
    (taking an object from a receptacle the agent has walked away from, opening what is already open): the kind of
    stale command agents do issue, answered "Nothing happens." with the state unchanged, so the plan is kept. At the
    first step, with nothing offered before, the expert or epsilon choice is played instead.
    """

    def __init__(self, epsilon: float = 0.0, source: str = "walkthrough", invalid: float = 0.0) -> None:
        if not 0.0 <= epsilon <= 1.0:
            raise PolicyError(f"epsilon must be in [0, 1], got {epsilon}")
        if not 0.0 <= invalid <= 1.0:
            raise PolicyError(f"invalid must be in [0, 1], got {invalid}")
        if source not in EXPERT_SOURCES:
            raise PolicyError(f"expert source must be one of {EXPERT_SOURCES}, got {source!r}")
        self.epsilon = epsilon
        self.invalid = invalid
        self.source = source
        self.rng = random.Random(0)
        self._plan: list[str] = []
        self._offered: dict[str, None] = {}  # every admissible command seen this episode, in first-seen order

    def reset(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._plan = []
        self._offered = {}

    def act(self, ctx: PolicyContext) -> tuple[str, str]:
        if ctx.env != "alfworld":
            raise PolicyError("the expert policy plays ALFWorld only (use --policy gold for tau2)")
        if not ctx.history and self.source == "walkthrough":
            self._plan = list(ctx.info.get("walkthrough") or [])
        if self._plan and self._plan[0] not in (ctx.admissible or []):
            self._plan = []  # off the stored solution's path
        now = ctx.admissible or []
        stale = [a for a in self._offered if a not in now]
        self._offered.update(dict.fromkeys(now))
        if self.invalid and self.rng.random() < self.invalid and stale:
            action = self.rng.choice(stale)
            return "[expert+invalid] a command offered earlier, not admissible now", action
        expert = self._plan[0] if self._plan else ctx.info.get("expert_action")
        choices = [a for a in (ctx.admissible or []) if a != expert]
        if choices and (not expert or self.rng.random() < self.epsilon):
            self._plan = []
            action = self.rng.choice(choices)
            return f"[expert+epsilon] random admissible action instead of {expert!r}", action
        if not expert:
            raise PolicyError("the ALFWorld env gave no expert action and no admissible actions")
        if self._plan:
            self._plan.pop(0)
            return "[expert] the game's walkthrough action", expert
        return "[expert] handcoded expert action", expert

    def metadata(self) -> dict[str, Any]:
        meta = {"name": "expert", "epsilon": self.epsilon, "source": self.source}
        return {**meta, "invalid": self.invalid} if self.invalid else meta  # as collection's settings file


class AlfworldRandomPolicy(AlfworldExpertPolicy):
    """A uniformly random admissible action (epsilon = 1)."""

    def __init__(self) -> None:
        super().__init__(epsilon=1.0, source="handcoded")

    def metadata(self) -> dict[str, Any]:
        return {"name": "random"}


class Tau2GoldPolicy:
    """Replays the gold actions, perturbing each with probability epsilon, then informs the user and stops."""

    def __init__(self, epsilon: float = 0.0) -> None:
        if not 0.0 <= epsilon <= 1.0:
            raise PolicyError(f"epsilon must be in [0, 1], got {epsilon}")
        self.epsilon = epsilon
        self.rng = random.Random(0)
        self._plan: list[tuple[str, str]] | None = None

    def reset(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._plan = None

    def _make_plan(self, ctx: PolicyContext) -> list[tuple[str, str]]:
        from envs.tau2_tasks import gold_action_strings

        tools = [t["function"]["name"] if "function" in t else t.get("name") for t in ctx.info.get("tools", [])]
        plan: list[tuple[str, str]] = []
        for action in gold_action_strings(ctx.info):
            call = json.loads(action) if action.startswith("{") else None
            if call is None or self.rng.random() >= self.epsilon:
                plan.append(("[gold] gold action" if call else "[gold] final message", action))
                continue
            kind = self.rng.choice(["drop", "argument", "tool"])
            if kind == "drop":
                continue
            if kind == "argument" and call.get("arguments"):
                key = self.rng.choice(sorted(call["arguments"]))
                call["arguments"][key] = _corrupt(call["arguments"][key])
                note = f"[gold+epsilon] argument {key!r} corrupted"
            else:
                others = [t for t in tools if t and t != call["name"]]
                if not others:
                    continue
                call["name"] = self.rng.choice(others)
                note = "[gold+epsilon] another tool called with the gold arguments"
            plan.append((note, json.dumps(call, ensure_ascii=False)))
        return plan

    def act(self, ctx: PolicyContext) -> tuple[str, str]:
        if ctx.env != "tau2":
            raise PolicyError("the gold policy plays tau2 only (use --policy expert for ALFWorld)")
        if self._plan is None:
            self._plan = self._make_plan(ctx)
        if not self._plan:
            return "[gold] nothing left to do", STOP_ACTION
        return self._plan.pop(0)

    def metadata(self) -> dict[str, Any]:
        return {"name": "gold", "epsilon": self.epsilon}


def _corrupt(value: Any) -> Any:
    if isinstance(value, str):
        return value[:-1] + ("0" if not value.endswith("0") else "1") if value else "x"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, list):
        return value[:-1] if value else ["x"]
    return value


class OpenAIPolicy:
    """The policy client: a model behind an OpenAI-compatible chat endpoint, prompted as the stage-2 agent loop
    prompts it (`data_prep.policy_prompts`) and parsed by the same parser (`data_prep.policy_actions`).

    tau2 tools go through the API's native `tools` (vLLM: `--enable-auto-tool-choice --tool-call-parser hermes`);
    `native_tools=False` writes them into the system prompt instead, for endpoints without tool calling. `act`
    returns `(text, None)` for an output with no usable action: the caller must not send it to the env.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        temperature: float = 1.0,
        max_tokens: int = 1024,
        api_key: str = "EMPTY",
        timeout: float = 120.0,
        max_retries: int = 2,
        history_window: int | None = None,
        native_tools: bool = True,
    ) -> None:
        from openai import OpenAI

        self.base_url = base_url
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.history_window = history_window
        self.native_tools = native_tools
        self.client = OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries)
        self._tools: list[dict[str, Any]] = []

    def check_reachable(self) -> None:
        """Fail fast with the endpoint in the message instead of after the first episode's retries."""
        import openai

        try:
            served = [m.id for m in self.client.models.list().data]
        except openai.APIConnectionError as err:
            raise PolicyError(f"cannot reach the policy endpoint {self.base_url}: {err}") from err
        except openai.APIError as err:
            raise PolicyError(f"the policy endpoint {self.base_url} answered with an error: {err}") from err
        if served and self.model not in served:
            raise PolicyError(f"model {self.model!r} is not served at {self.base_url}; it serves {served}")

    def reset(self, seed: int) -> None:
        self.seed = seed
        self._tools = []

    def act(self, ctx: PolicyContext) -> tuple[str, str | None]:
        import openai

        from data_prep.policy_actions import parse_action, tool_calls_text
        from data_prep.policy_prompts import build_policy_messages, tool_schemas

        if not ctx.history:
            self._tools = tool_schemas(ctx.info)  # the reset info carries the tools; later steps may not
        native = ctx.env == "tau2" and self.native_tools and bool(self._tools)
        messages = build_policy_messages(
            env=ctx.env,
            task=ctx.task,
            initial_observation=ctx.initial_observation,
            history=[(s.action, s.next_observation) for s in ctx.history],
            observation=ctx.observation,
            admissible=ctx.admissible,
            info={**ctx.info, "tools": self._tools} if self._tools else ctx.info,
            history_window=self.history_window,
            tools_in_prompt=not native,
        )
        extra: dict[str, Any] = {}
        if native:
            messages = [_api_message(m) for m in messages]
            extra = {"tools": self._tools, "tool_choice": "auto"}
        try:
            resp = self.client.chat.completions.create(
                model=self.model, messages=messages, temperature=self.temperature, max_tokens=self.max_tokens, **extra
            )
        except openai.APIConnectionError as err:
            raise PolicyError(f"cannot reach the policy endpoint {self.base_url}: {err}") from err
        msg = resp.choices[0].message
        text = msg.content or ""
        if msg.tool_calls:  # the server parsed the calls out of the text: put them back for the one parser
            text += "\n" + tool_calls_text([(c.function.name, c.function.arguments) for c in msg.tool_calls])
        action, _ok = parse_action(text, ctx.env)
        return text, action

    def metadata(self) -> dict[str, Any]:
        return {"name": "openai", "model": self.model, "base_url": self.base_url, "temperature": self.temperature}


def _api_message(message: dict[str, Any]) -> dict[str, Any]:
    """A chat-template message as the OpenAI API takes it (tool-call arguments as JSON text)."""
    if not message.get("tool_calls"):
        return message
    calls = []
    for call in message["tool_calls"]:
        fn = dict(call["function"])
        if not isinstance(fn["arguments"], str):
            fn["arguments"] = json.dumps(fn["arguments"], ensure_ascii=False)
        calls.append({**call, "function": fn})
    return {**message, "tool_calls": calls}


POLICY_NAMES = ("openai", "expert", "random", "gold")


def make_policy(spec: dict[str, Any]) -> Policy:
    """Build a policy from a JSON-able spec: {"name": ..., plus that policy's settings}."""
    spec = dict(spec)
    name = spec.pop("name", None)
    if name == "expert":
        return AlfworldExpertPolicy(
            epsilon=float(spec.get("epsilon", 0.0)),
            source=str(spec.get("source", "walkthrough")),
            invalid=float(spec.get("invalid", 0.0)),
        )
    if name == "random":
        return AlfworldRandomPolicy()
    if name == "gold":
        return Tau2GoldPolicy(epsilon=float(spec.get("epsilon", 0.0)))
    if name == "openai":
        if not spec.get("base_url") or not spec.get("model"):
            raise PolicyError("the openai policy needs --base-url and --model")
        return OpenAIPolicy(**spec)
    raise PolicyError(f"unknown policy {name!r}; expected one of {', '.join(POLICY_NAMES)}")
