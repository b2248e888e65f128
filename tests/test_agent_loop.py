"""The stage-2 env agent loop, driven the way verl's agent-loop worker drives it, on real ALFWorld and tau2 tasks.

The model is a stand-in for verl's server manager: scripted token outputs (the expert's actions, or invalid ones),
or the tiny random-weight causal LM of recipe/rwml/base_models.py generating for real. Rows go through verl's own
RLHFDataset, collate_fn and DataProto, and `AgentLoopWorker.generate_sequences` pads and scores the batch.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import REPO_ROOT
from tests.openai_stub import openai_stub

CONFIG_DIR = REPO_ROOT / "recipe" / "rwml" / "config"
AGENT_LOOP_YAML = CONFIG_DIR / "agent_loop.yaml"


# ----------------------------------------------------------------------------------------------- helpers


def compose(model_dir: Path, *overrides: str) -> Any:
    """policy_trainer.yaml composed against the installed verl, as main_ppo would see it."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    base = [
        f"actor_rollout_ref.model.path={model_dir}",
        f"actor_rollout_ref.rollout.agent.agent_loop_config_path={AGENT_LOOP_YAML}",
        "actor_rollout_ref.rollout.tensor_model_parallel_size=1",
        "trainer.n_gpus_per_node=1",
    ]
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
        return hydra_compose("policy_trainer", overrides=[*base, *overrides])


class ScriptedServer:
    """Stand-in for verl's LLMServerClient: each trajectory (request id) answers turn k with `script(k)`."""

    def __init__(self, tokenizer: Any, script: Callable[[int], str]) -> None:
        self.tokenizer = tokenizer
        self.script = script
        self.turns: dict[str, int] = defaultdict(int)
        self.calls: list[dict[str, Any]] = []

    async def generate(self, request_id: str, *, prompt_ids: list[int], sampling_params: dict, **kwargs: Any):
        from verl.workers.rollout.replica import TokenOutput

        k = self.turns[request_id]
        self.turns[request_id] += 1
        self.calls.append({"request_id": request_id, "prompt_ids": list(prompt_ids), "params": dict(sampling_params)})
        ids = self.tokenizer.encode(self.script(k), add_special_tokens=False)
        ids = ids[: sampling_params["max_tokens"] - 1] + [self.tokenizer.eos_token_id]
        return TokenOutput(token_ids=ids, log_probs=[-0.5] * len(ids))


class TinyLMServer:
    """Stand-in server that really samples from the tiny random-weight causal LM."""

    def __init__(self, model_dir: Path, seed: int = 0) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.manual_seed(seed)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.calls = 0

    async def generate(self, request_id: str, *, prompt_ids: list[int], sampling_params: dict, **kwargs: Any):
        import torch
        from verl.workers.rollout.replica import TokenOutput

        self.calls += 1
        with torch.no_grad():
            out = self.model.generate(
                torch.tensor([prompt_ids]),
                max_new_tokens=sampling_params["max_tokens"],
                do_sample=True,
                temperature=max(float(sampling_params.get("temperature", 1.0)), 1e-3),
                top_k=0,
                pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=self.tokenizer.eos_token_id,
                return_dict_in_generate=True,
                output_scores=True,
            )
            new = out.sequences[0, len(prompt_ids) :]
            logprobs = self.model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)[0]
        return TokenOutput(token_ids=new.tolist(), log_probs=logprobs.tolist())


def make_batch(cfg: Any, tokenizer: Any, rows: list[dict], n: int, tmp_path: Path) -> Any:
    """Rows -> parquet -> verl's RLHFDataset + collate_fn -> DataProto repeated n times, as the trainer does."""
    import pandas as pd
    from verl.protocol import DataProto
    from verl.utils.dataset.rl_dataset import RLHFDataset, collate_fn

    path = tmp_path / f"rows-{uuid.uuid4().hex[:6]}.parquet"
    pd.DataFrame(rows).to_parquet(path)
    dataset = RLHFDataset(str(path), tokenizer, cfg.data)
    batch = DataProto.from_single_dict(collate_fn([dataset[i] for i in range(len(dataset))]))
    batch.non_tensor_batch["uid"] = np.array([str(uuid.uuid4()) for _ in range(len(batch))], dtype=object)
    return batch.repeat(repeat_times=n, interleave=True)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def generate(cfg: Any, server: Any, batch: Any) -> Any:
    from verl.experimental.agent_loop.agent_loop import AgentLoopWorker

    worker = AgentLoopWorker(cfg, llm_client=server)
    return await worker.generate_sequences(batch)


async def run_loop_directly(cfg: Any, server: Any, batch: Any) -> list[Any]:
    """Instantiate and run the registered loop per sample exactly as AgentLoopWorker._run_agent_loop does."""
    import hydra
    from verl.experimental.agent_loop.agent_loop import (
        AgentLoopWorker,
        DictConfigWrap,
        ToolListWrap,
        _agent_loop_registry,
    )

    worker = AgentLoopWorker(cfg, llm_client=server)
    outputs = []
    for i in range(len(batch)):
        kwargs = {k: v[i] for k, v in batch.non_tensor_batch.items()}
        loop = hydra.utils.instantiate(
            config=_agent_loop_registry[kwargs.pop("agent_name")],
            trainer_config=DictConfigWrap(config=cfg),
            server_manager=server,
            tokenizer=worker.tokenizer,
            processor=worker.processor,
            hf_model_type=worker.hf_model_type,
            dataset_cls=worker.dataset_cls,
            data_config=DictConfigWrap(cfg.data),
            tools=ToolListWrap(worker.tools),
        )
        outputs.append(await loop.run({"temperature": 1.0, "top_p": 1.0, "top_k": -1, "logprobs": True}, **kwargs))
    return outputs


def mask_runs(mask: list[int]) -> list[tuple[int, int, int]]:
    """(value, start, end) runs of a 0/1 mask."""
    runs: list[tuple[int, int, int]] = []
    for i, m in enumerate(mask):
        if runs and runs[-1][0] == m:
            runs[-1] = (m, runs[-1][1], i + 1)
        else:
            runs.append((m, i, i + 1))
    return runs


# ----------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def alfworld_game(shared_alfworld: Path) -> dict[str, Any]:
    """A real valid_seen game and the handcoded expert's winning walkthrough."""
    from data_prep.play_episode import run_episode
    from data_prep.policies import AlfworldExpertPolicy
    from envs.registry import list_tasks, make_env

    tasks = [
        t for t in list_tasks("alfworld", "valid_seen", data_root=shared_alfworld) if "pick_and_place" in t.task_id
    ]
    env = make_env("alfworld")
    for task in tasks[:5]:
        ep = run_episode(env, AlfworldExpertPolicy(), task, 0, 30)
        if ep.success and 2 <= len(ep.steps) <= 12:
            env.close()
            return {"task": task, "actions": [s.action for s in ep.steps], "initial": ep.initial_observation}
    env.close()
    pytest.fail("no short expert-solvable pick_and_place game among the first valid_seen games")


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def alf_row(game: dict[str, Any], shared_alfworld: Path) -> dict[str, Any]:
    from data_prep.build_policy_dataset import policy_row

    return policy_row(game["task"], 0)


def expert_script(actions: list[str], *, bad_first: list[str] = ()) -> Callable[[int], str]:
    outputs = list(bad_first) + [f"<think>The plan says: {a}.</think><action>{a}</action>" for a in actions]
    return lambda k: outputs[k] if k < len(outputs) else "<think>done</think><action>look</action>"


# ----------------------------------------------------------------------------------------------- config


def test_policy_trainer_composes_and_validates_against_verl(tiny_model_dir: Path) -> None:
    from verl.trainer.config import AlgoConfig
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import omega_conf_to_dataclass, validate_config
    from verl.workers.config import FSDPActorConfig, RolloutConfig

    from recipe.rwml.agent_loop_settings import LoopSettings

    cfg = compose(
        tiny_model_dir,
        "actor_rollout_ref.rollout.custom.rwml_env.envs.tau2.env_kwargs.user_base_url=http://127.0.0.1:8001/v1",
    )
    actor = omega_conf_to_dataclass(cfg.actor_rollout_ref.actor)
    rollout = omega_conf_to_dataclass(cfg.actor_rollout_ref.rollout)
    algo = omega_conf_to_dataclass(cfg.algorithm)
    assert isinstance(actor, FSDPActorConfig) and isinstance(rollout, RolloutConfig) and isinstance(algo, AlgoConfig)
    validate_config(config=cfg, use_reference_policy=need_reference_policy(cfg), use_critic=need_critic(cfg))
    # the paper's stage-2 defaults
    assert algo.adv_estimator == "grpo" and rollout.n == 8 and cfg.data.train_batch_size == 8
    assert actor.optim.lr == pytest.approx(1e-6) and actor.use_kl_loss and actor.kl_loss_coef == pytest.approx(0.01)
    assert actor.entropy_coeff == pytest.approx(0.001)
    assert rollout.agent.default_agent_loop == "rwml_env_agent"
    settings = LoopSettings.from_config(rollout.custom)
    assert settings.invalid_action_penalty == pytest.approx(0.1)
    assert (settings.envs["alfworld"].max_steps, settings.envs["alfworld"].history_window) == (15, 2)
    assert (settings.envs["tau2"].max_steps, settings.envs["tau2"].history_window) == (20, 5)
    assert settings.envs["tau2"].env_kwargs["user_base_url"] == "http://127.0.0.1:8001/v1"
    assert settings.envs["tau2"].env_kwargs["user_temperature"] == 0.0


def test_unknown_loop_setting_is_an_error_naming_it(tiny_model_dir: Path) -> None:
    from recipe.rwml.agent_loop_settings import LoopSettings

    cfg = compose(tiny_model_dir, "+actor_rollout_ref.rollout.custom.rwml_env.envs.alfworld.max_step=3")
    with pytest.raises(ValueError, match=r"envs\.alfworld: unknown setting 'max_step'"):
        LoopSettings.from_config(cfg.actor_rollout_ref.rollout.custom)


def test_worker_registers_the_loop_from_the_yaml(tiny_model_dir: Path, tokenizer: Any) -> None:
    from verl.experimental.agent_loop.agent_loop import AgentLoopWorker, _agent_loop_registry

    from data_prep.build_policy_dataset import AGENT_NAME  # the name the dataset rows ask for

    AgentLoopWorker(compose(tiny_model_dir), llm_client=ScriptedServer(tokenizer, lambda k: ""))
    assert _agent_loop_registry[AGENT_NAME]["_target_"] == "recipe.rwml.agent_loop.RWMLEnvAgentLoop"


# ----------------------------------------------------------------------------------------------- ALFWorld


MULTI_TURN = (
    "actor_rollout_ref.rollout.custom.rwml_env.context=multi_turn",
    "data.max_prompt_length=1024",
    "data.max_response_length=8192",
)


def test_multi_turn_expert_wins_with_alternating_tokens(
    tiny_model_dir: Path, tokenizer: Any, alfworld_game: dict, shared_alfworld: Path, tmp_path: Path
) -> None:
    """The full worker path: prompt + (model tokens, mask 1 | observation tokens, mask 0)*, reward 1 at the end."""
    cfg = compose(tiny_model_dir, *MULTI_TURN)
    actions = alfworld_game["actions"]
    server = ScriptedServer(tokenizer, expert_script(actions))
    batch = make_batch(cfg, tokenizer, [alf_row(alfworld_game, shared_alfworld)], n=2, tmp_path=tmp_path)
    out = run(generate(cfg, server, batch))

    assert out.batch["responses"].shape[1] == cfg.data.max_response_length
    assert list(out.non_tensor_batch["success"]) == [1.0, 1.0]
    assert list(out.non_tensor_batch["invalid_actions"]) == [0, 0]
    assert list(out.non_tensor_batch["env_steps"]) == [len(actions)] * 2
    rm = out.batch["rm_scores"]
    for i in range(2):
        resp_len = int(out.batch["attention_mask"][i, out.batch["prompts"].shape[1] :].sum())
        assert rm[i].sum().item() == pytest.approx(1.0) and rm[i, resp_len - 1].item() == pytest.approx(1.0)
        mask = out.batch["response_mask"][i, :resp_len].tolist()
        ids = out.batch["responses"][i, :resp_len].tolist()
        runs = mask_runs(mask)
        model_runs = [r for r in runs if r[0] == 1]
        env_runs = [r for r in runs if r[0] == 0]
        # one model turn per action, an observation between consecutive turns, none after the winning one
        assert len(model_runs) == len(actions) and len(env_runs) == len(actions) - 1 and runs[-1][0] == 1
        for (_, s, e), action in zip(model_runs, actions, strict=True):
            assert tokenizer.decode(ids[s:e], skip_special_tokens=True) == expert_script([action])(0)
        for _, s, e in env_runs:
            text = tokenizer.decode(ids[s:e])
            assert "<|im_start|>user\nObservation: " in text and text.endswith("<|im_start|>assistant\n")
    # both samples of the GRPO group played the same game from the same prompt
    p0, p1 = (
        out.batch["prompts"][i][out.batch["attention_mask"][i, : out.batch["prompts"].shape[1]].bool()]
        for i in range(2)
    )
    assert p0.tolist() == p1.tolist()
    assert "Your task is to:" in tokenizer.decode(p0.tolist())
    # each call's prompt is exactly the running sequence: prompt + everything before it
    first = server.calls[0]["prompt_ids"]
    last = [c for c in server.calls if c["request_id"] == server.calls[0]["request_id"]][-1]["prompt_ids"]
    assert last[: len(first)] == first and len(last) > len(first)


def test_invalid_actions_are_penalised(
    tiny_model_dir: Path, tokenizer: Any, alfworld_game: dict, shared_alfworld: Path, tmp_path: Path
) -> None:
    cfg = compose(tiny_model_dir, *MULTI_TURN)
    bad = ["I will just look around.", "<think>Maybe flying helps.</think><action>fly to the moon</action>"]
    server = ScriptedServer(tokenizer, expert_script(alfworld_game["actions"], bad_first=bad))
    batch = make_batch(cfg, tokenizer, [alf_row(alfworld_game, shared_alfworld)], n=1, tmp_path=tmp_path)
    out = run(generate(cfg, server, batch))
    assert out.non_tensor_batch["success"][0] == 1.0
    assert out.non_tensor_batch["invalid_actions"][0] == 2 and out.non_tensor_batch["format_errors"][0] == 1
    assert out.batch["rm_scores"][0].sum().item() == pytest.approx(1.0 - 2 * 0.1)
    text = tokenizer.decode(out.batch["responses"][0].tolist())
    assert "Invalid output: no action found" in text and "Nothing happens." in text


def test_budgets_stop_the_loop(
    tiny_model_dir: Path, tokenizer: Any, alfworld_game: dict, shared_alfworld: Path, tmp_path: Path
) -> None:
    actions = alfworld_game["actions"]
    # max_steps: the expert needs more steps than allowed -> no success, reward 0
    cfg = compose(
        tiny_model_dir,
        *MULTI_TURN,
        f"actor_rollout_ref.rollout.custom.rwml_env.envs.alfworld.max_steps={len(actions) - 1}",
    )
    out = run(
        generate(
            cfg,
            ScriptedServer(tokenizer, expert_script(actions)),
            make_batch(cfg, tokenizer, [alf_row(alfworld_game, shared_alfworld)], 1, tmp_path),
        )
    )
    assert out.non_tensor_batch["env_steps"][0] == len(actions) - 1
    assert out.non_tensor_batch["success"][0] == 0.0 and out.batch["rm_scores"][0].sum().item() == 0.0
    # response budget: a short whole-episode budget ends the episode after a few turns, within the budget
    cfg = compose(tiny_model_dir, *MULTI_TURN[:2], "data.max_response_length=160")
    out = run(
        generate(
            cfg,
            ScriptedServer(tokenizer, expert_script(actions)),
            make_batch(cfg, tokenizer, [alf_row(alfworld_game, shared_alfworld)], 1, tmp_path),
        )
    )
    steps = out.non_tensor_batch["env_steps"][0]
    assert 1 <= steps < len(actions) and out.non_tensor_batch["success"][0] == 0.0
    assert int(out.batch["attention_mask"][0, out.batch["prompts"].shape[1] :].sum()) <= 160


def test_tiny_lm_generates_for_real_and_pays_for_invalid_outputs(
    tiny_model_dir: Path, tokenizer: Any, alfworld_game: dict, shared_alfworld: Path, tmp_path: Path
) -> None:
    cfg = compose(
        tiny_model_dir,
        *MULTI_TURN,
        "actor_rollout_ref.rollout.custom.rwml_env.envs.alfworld.max_steps=3",
        "actor_rollout_ref.rollout.custom.rwml_env.envs.alfworld.max_tokens_per_turn=24",
    )
    server = TinyLMServer(tiny_model_dir)
    out = run(generate(cfg, server, make_batch(cfg, tokenizer, [alf_row(alfworld_game, shared_alfworld)], 1, tmp_path)))
    assert server.calls == 3 and out.non_tensor_batch["env_steps"][0] == 3
    # random weights never write a well-formed action: every step is invalid and costs 0.1
    assert out.non_tensor_batch["invalid_actions"][0] == 3
    assert out.batch["rm_scores"][0].sum().item() == pytest.approx(-0.3)
    assert "rollout_log_probs" in out.batch.keys()


def test_windowed_context_gives_one_sample_per_step_with_a_window(
    tiny_model_dir: Path, tokenizer: Any, alfworld_game: dict, shared_alfworld: Path, tmp_path: Path
) -> None:
    from verl.experimental.agent_loop.agent_loop import AgentLoopOutput

    cfg = compose(tiny_model_dir, "data.max_prompt_length=1024", "data.max_response_length=64")
    actions = alfworld_game["actions"]
    server = ScriptedServer(tokenizer, expert_script(actions, bad_first=["<think>hm</think><action>jump</action>"]))
    batch = make_batch(cfg, tokenizer, [alf_row(alfworld_game, shared_alfworld)], 1, tmp_path)
    (outputs,) = run(run_loop_directly(cfg, server, batch))
    assert isinstance(outputs, list) and all(isinstance(o, AgentLoopOutput) for o in outputs)
    assert len(outputs) == len(actions) + 1
    for o in outputs:  # every step sample carries the episode's reward, as verl v1 expects
        assert o.reward_score == pytest.approx(1.0 - 0.1) and o.extra_fields["reward_extra_info"]["success"] == 1.0
        assert o.response_mask == [1] * len(o.response_ids) and len(o.response_ids) <= 64
        assert o.as_dict()["rm_scores"][-1].item() == pytest.approx(0.9)
    prompts = [tokenizer.decode(o.prompt_ids) for o in outputs]
    # history window 2: the last prompt shows the last two actions, not the older ones, and says so
    last = prompts[-1]
    assert f"<action>{actions[-2]}</action>" in last and f"<action>{actions[-3]}</action>" in last
    assert "<action>jump</action>" not in last and "earlier step(s) are not shown" in last
    assert "Admissible actions:" in last and last.count("Admissible actions:") == 1
    assert all(len(o.prompt_ids) <= 1024 for o in outputs)


# ----------------------------------------------------------------------------------------------- tau2


TAU2_USER_FIRST = "Hi, I received an order and want to return an item. I am Mei Kovacs, zip code 28236."
TAU2_USER_CONFIRM = "Yes, please go ahead with the return to my PayPal account."


@pytest.fixture(scope="module")
def retail_task() -> tuple[Any, list[str]]:
    """A real tau2 retail test task and its gold actions (tool calls, then the closing message)."""
    from envs.registry import list_tasks, make_env
    from envs.tau2_tasks import gold_action_strings

    task = list_tasks("tau2", "test", domain="retail")[0]
    env = make_env("tau2")
    info = env.reset(task).info
    env.close()
    return task, gold_action_strings(info)


def tau2_script(gold: list[str]) -> list[str]:
    """The gold actions in the model's native format; before the last write call, a question to the user."""
    outputs = []
    for i, action in enumerate(gold):
        if i == len(gold) - 2:
            outputs.append("<think>Confirm first.</think>Shall I proceed with the return?")
        if action.startswith("{"):
            outputs.append(f"<think>Next gold call.</think><tool_call>\n{action}\n</tool_call>")
        else:
            outputs.append(f"<think>Wrap up.</think>{action}")
    return outputs


def test_tau2_retail_gold_tool_calls_win_with_a_simulated_user(
    tiny_model_dir: Path, tokenizer: Any, retail_task: tuple[Any, list[str]], tmp_path: Path
) -> None:
    from data_prep.build_policy_dataset import policy_row

    task, gold = retail_task
    script = tau2_script(gold)
    user_turns: list[dict] = []

    def user(req: dict) -> str:
        user_turns.append(req)
        return TAU2_USER_FIRST if len(user_turns) == 1 else TAU2_USER_CONFIRM

    with openai_stub(user, model="user-sim") as server:
        cfg = compose(
            tiny_model_dir,
            *MULTI_TURN,
            "data.max_response_length=4096",
            "data.max_prompt_length=8192",
            f"actor_rollout_ref.rollout.custom.rwml_env.envs.tau2.env_kwargs.user_base_url={server.base_url}",
            "actor_rollout_ref.rollout.custom.rwml_env.envs.tau2.env_kwargs.user_model=openai/user-sim",
        )
        llm = ScriptedServer(tokenizer, lambda k: script[k])
        batch = make_batch(cfg, tokenizer, [policy_row(task, 0)], 1, tmp_path)
        out = run(generate(cfg, llm, batch))
    assert out.non_tensor_batch["data_source"][0] == "tau2_retail"
    assert out.non_tensor_batch["success"][0] == 1.0 and out.non_tensor_batch["invalid_actions"][0] == 0
    assert out.non_tensor_batch["env_steps"][0] == len(script)
    assert out.batch["rm_scores"][0].sum().item() == pytest.approx(1.0)
    assert len(user_turns) == 2  # the first message, and the answer to the question
    n = int(out.batch["attention_mask"][0, out.batch["prompts"].shape[1] :].sum())
    ids, mask = out.batch["responses"][0, :n].tolist(), out.batch["response_mask"][0, :n].tolist()
    env_text = [tokenizer.decode(ids[s:e]) for v, s, e in mask_runs(mask) if v == 0]
    assert sum("<|im_start|>tool\n" in t for t in env_text) == len(gold) - 1  # tool responses, mask 0
    assert any(TAU2_USER_CONFIRM in t for t in env_text)  # the simulated user's reply, mask 0
    prompt = tokenizer.decode(out.batch["prompts"][0].tolist(), skip_special_tokens=True)
    assert "Hi! How can I help you today?" in prompt and TAU2_USER_FIRST in prompt and "<policy>" in prompt


def test_tau2_malformed_tool_call_is_invalid_and_not_executed(
    tiny_model_dir: Path, tokenizer: Any, retail_task: tuple[Any, list[str]], tmp_path: Path
) -> None:
    from data_prep.build_policy_dataset import policy_row

    task, gold = retail_task
    script = [
        '<tool_call>{"name": "get_user_details", "arguments": {"user_id": </tool_call>',
        '<tool_call>{"name": "no_such_tool", "arguments": {}}</tool_call>',
        *tau2_script(gold)[:1],
    ]
    cfg = compose(
        tiny_model_dir,
        *MULTI_TURN,
        "data.max_response_length=4096",
        "data.max_prompt_length=8192",
        "actor_rollout_ref.rollout.custom.rwml_env.envs.tau2.max_steps=3",
    )
    out = run(
        generate(
            cfg,
            ScriptedServer(tokenizer, lambda k: script[k]),
            make_batch(cfg, tokenizer, [policy_row(task, 0)], 1, tmp_path),
        )
    )
    assert out.non_tensor_batch["env_steps"][0] == 3 and out.non_tensor_batch["success"][0] == 0.0
    assert out.non_tensor_batch["invalid_actions"][0] == 2 and out.non_tensor_batch["format_errors"][0] == 1
    assert out.batch["rm_scores"][0].sum().item() == pytest.approx(-0.2)
    text = tokenizer.decode(out.batch["responses"][0].tolist())
    assert "the tool call could not be parsed" in text and "no_such_tool" in text


class VersionedServer(ScriptedServer):
    """A scripted server that stamps each answer with the weight version, as verl's LLMServerClient does."""

    async def generate(self, request_id: str, *, prompt_ids: list[int], sampling_params: dict, **kwargs: Any):
        out = await super().generate(request_id, prompt_ids=prompt_ids, sampling_params=sampling_params, **kwargs)
        version = 7 + self.turns[request_id]  # a new version for every turn: weights updated mid-trajectory
        out.extra_fields = {"global_steps": version, "min_global_steps": version, "max_global_steps": version}
        return out


@pytest.mark.parametrize("context", ["windowed", "multi_turn"])
def test_outputs_carry_the_weight_versions_verls_v1_trainer_reads(
    context: str, tiny_model_dir: Path, tokenizer: Any, alfworld_game: dict, shared_alfworld: Path, tmp_path: Path
) -> None:
    """verl's v1 trainer reads min/max_global_steps of every output (int(None) crashed stage 2 before)."""
    overrides = MULTI_TURN if context == "multi_turn" else ()
    cfg = compose(tiny_model_dir, *overrides)
    actions = alfworld_game["actions"]
    server = VersionedServer(tokenizer, expert_script(actions))
    batch = make_batch(cfg, tokenizer, [alf_row(alfworld_game, shared_alfworld)], n=1, tmp_path=tmp_path)
    (result,) = run(run_loop_directly(cfg, server, batch))
    outputs = result if isinstance(result, list) else [result]
    if context == "windowed":
        assert len(outputs) == len(actions)
        for k, out in enumerate(outputs):  # each step sample: the version that generated it
            assert out.extra_fields["min_global_steps"] == out.extra_fields["max_global_steps"] == 8 + k
    else:
        (out,) = outputs
        assert (out.extra_fields["min_global_steps"], out.extra_fields["max_global_steps"]) == (8, 7 + len(actions))
    assert all(out.extra_fields["reward_extra_info"]["success"] == 1.0 for out in outputs)
