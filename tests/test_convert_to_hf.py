"""recipe/rwml/convert_to_hf.py (scripts/convert_to_hf.py) on real verl FSDP checkpoints written on CPU by verl's
FSDPCheckpointManager.

The checkpoints come from tests/fsdp_checkpoint.py: the tiny model trained with FSDP1 (verl's default actor
strategy) or FSDP2 on 1 or 2 gloo ranks, saved after each optimizer step. Conversion goes through verl's own
model merger; the converted HF model must hold exactly the weights the FSDP model had at that step (in bf16,
the dtype verl's merger writes) and must generate.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from recipe.rwml.actor_checkpoint import ConversionError, check_actor_dir, find_actor_dir
from recipe.rwml.convert_to_hf import main
from tests.fsdp_checkpoint import write_fsdp_checkpoint


@pytest.fixture(scope="module")
def two_step_run(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """FSDP1, world size 1, checkpoints at steps 1 and 2 (tracker says 2): (ckpt_dir, {step: weights})."""
    ckpt_dir = tmp_path_factory.mktemp("fsdp1_ws1") / "ckpt"
    references = write_fsdp_checkpoint(tiny_model_dir, ckpt_dir, steps=(1, 2), world_size=1, strategy="fsdp")
    return ckpt_dir, references


def _hf_weights(hf_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(hf_dir / "model.safetensors"))


def _assert_same_weights(hf_dir: Path, reference: dict[str, torch.Tensor]) -> None:
    """The converted model's tensors equal the FSDP model's full state dict cast to bf16 (verl merges in bf16)."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype="auto")
    converted = model.state_dict()
    assert set(converted) == set(reference)
    for key, expected in reference.items():
        assert converted[key].dtype == torch.bfloat16, key
        assert torch.equal(converted[key], expected.to(torch.bfloat16)), f"{key} differs after conversion"


def test_latest_step_converts_to_trained_weights_and_generates(two_step_run, tiny_model_dir, tmp_path, capfd):
    ckpt_dir, references = two_step_run
    target = tmp_path / "models" / "stage1_hf"

    assert main(["--ckpt-dir", str(ckpt_dir), "--target-dir", str(target)]) == 0

    out = capfd.readouterr().out
    assert "step 2 (from latest_checkpointed_iteration.txt)" in out
    assert "-m verl.model_merger merge --backend fsdp --local_dir" in out  # verl's own merger did the work
    summary = [line for line in out.splitlines() if "tokens generated from a chat-templated prompt" in line]
    assert len(summary) == 1 and "M params, bfloat16" in summary[0]
    _assert_same_weights(target, references[2])

    # the step really trained: the converted weights are neither the base model's nor step 1's
    base = _hf_weights(tiny_model_dir)
    key = "model.layers.0.mlp.down_proj.weight"
    assert not torch.equal(base[key].to(torch.bfloat16), references[2][key].to(torch.bfloat16))
    assert not torch.equal(references[1][key].to(torch.bfloat16), references[2][key].to(torch.bfloat16))

    # --step picks an older checkpoint; converting it into the same folder replaces the earlier model whole
    assert main(["--ckpt-dir", str(ckpt_dir), "--step", "1", "--target-dir", str(target), "--no-check"]) == 0
    _assert_same_weights(target, references[1])
    assert sorted(p.name for p in target.parent.iterdir()) == ["stage1_hf"]  # no temporary folders left


@pytest.mark.parametrize(("world_size", "strategy"), [(2, "fsdp"), (1, "fsdp2")])
def test_sharded_checkpoints_merge(world_size, strategy, tiny_model_dir, tmp_path):
    """World size 2 (FSDP1 flat-param shards saved as DTensors) and FSDP2 (DTensor params) both merge."""
    ckpt_dir = tmp_path / "ckpt"
    references = write_fsdp_checkpoint(tiny_model_dir, ckpt_dir, steps=(3,), world_size=world_size, strategy=strategy)
    actor_dir = ckpt_dir / "global_step_3" / "actor"
    assert check_actor_dir(actor_dir) == world_size

    from torch.distributed.tensor import DTensor

    shard = torch.load(actor_dir / f"model_world_size_{world_size}_rank_0.pt", weights_only=False)
    weight = shard["model.layers.0.mlp.gate_proj.weight"]
    assert isinstance(weight, DTensor)
    assert weight.to_local().shape[0] == 128 // world_size  # each rank really holds a slice

    target = tmp_path / "hf"
    assert main(["--actor-dir", str(actor_dir), "--target-dir", str(target)]) == 0
    _assert_same_weights(target, references[3])


# --- picking the step ---------------------------------------------------------------------------------------


@pytest.fixture()
def many_steps(two_step_run, tmp_path) -> Path:
    """global_step_1, _2, _10 (copies of a real actor folder) and no tracker."""
    src = two_step_run[0] / "global_step_1" / "actor"
    ckpt_dir = tmp_path / "ckpt"
    for step in (1, 2, 10):
        shutil.copytree(src, ckpt_dir / f"global_step_{step}" / "actor")
    return ckpt_dir


def test_highest_step_without_tracker_is_numeric(many_steps):
    assert find_actor_dir(many_steps) == many_steps / "global_step_10" / "actor"


def test_tracker_wins_over_a_higher_unfinished_step(many_steps):
    (many_steps / "latest_checkpointed_iteration.txt").write_text("2")
    assert find_actor_dir(many_steps) == many_steps / "global_step_2" / "actor"
    assert find_actor_dir(many_steps, step=1) == many_steps / "global_step_1" / "actor"


def test_sft_trainer_layout_without_actor_subfolder(two_step_run, tmp_path):
    """verl's SFT trainer saves the shards into global_step_N/ itself; --ckpt-dir finds them there."""
    ckpt_dir = tmp_path / "sft"
    shutil.copytree(two_step_run[0] / "global_step_1" / "actor", ckpt_dir / "global_step_3")
    (ckpt_dir / "latest_checkpointed_iteration.txt").write_text("3")
    assert find_actor_dir(ckpt_dir) == ckpt_dir / "global_step_3"


def test_tracker_naming_a_missing_step_is_an_error(many_steps):
    (many_steps / "latest_checkpointed_iteration.txt").write_text("7\n")
    with pytest.raises(ConversionError, match=r"step 7 \(from latest_checkpointed_iteration.txt\).*found: 1, 2, 10"):
        find_actor_dir(many_steps)


def test_bad_tracker_names_the_file(many_steps):
    (many_steps / "latest_checkpointed_iteration.txt").write_text("step-two")
    with pytest.raises(ConversionError, match=r"latest_checkpointed_iteration.txt: expected a step number"):
        find_actor_dir(many_steps)


def test_missing_step_flag(many_steps):
    with pytest.raises(ConversionError, match=r"step 5 \(from --step\)"):
        find_actor_dir(many_steps, step=5)


# --- clear errors -------------------------------------------------------------------------------------------


def test_missing_and_empty_checkpoint_dirs(tmp_path, capfd):
    missing = tmp_path / "nope"
    assert main(["--ckpt-dir", str(missing), "--target-dir", str(tmp_path / "hf")]) == 2
    assert f"checkpoint folder {missing} does not exist" in capfd.readouterr().err

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["--ckpt-dir", str(empty), "--target-dir", str(tmp_path / "hf")]) == 2
    assert f"no global_step_N checkpoint in {empty}" in capfd.readouterr().err
    assert not (tmp_path / "hf").exists()


def test_step_folder_given_as_ckpt_dir(many_steps):
    with pytest.raises(ConversionError, match="pass its parent as --ckpt-dir"):
        find_actor_dir(many_steps / "global_step_2")


@pytest.mark.parametrize(
    ("remove", "message"),
    [
        ("model_world_size_1_rank_0.pt", "model shards are missing or empty: model_world_size_1_rank_0.pt"),
        ("fsdp_config.json", "no fsdp_config.json"),
        ("huggingface", "needs the huggingface/ subfolder"),
        ("huggingface/tokenizer_config.json+huggingface/tokenizer.json", "has no tokenizer"),
    ],
)
def test_incomplete_actor_folder(many_steps, remove, message, tmp_path, capfd):
    actor = many_steps / "global_step_10" / "actor"
    for name in remove.split("+"):
        path = actor / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert main(["--ckpt-dir", str(many_steps), "--target-dir", str(tmp_path / "hf")]) == 2
    err = capfd.readouterr().err
    assert message in err and str(actor) in err
    assert not (tmp_path / "hf").exists()


def test_failed_merge_leaves_no_target(many_steps, tmp_path, capfd):
    """A corrupt shard makes verl's merger fail: error exit, no target folder, no temporary folder left."""
    (many_steps / "global_step_10" / "actor" / "model_world_size_1_rank_0.pt").write_bytes(b"not a torch file")
    out_root = tmp_path / "out"
    assert main(["--ckpt-dir", str(many_steps), "--target-dir", str(out_root / "hf")]) == 2
    assert "verl's model merger exited with status" in capfd.readouterr().err
    assert list(out_root.iterdir()) == []


def test_refuses_to_replace_a_folder_that_is_not_a_model(many_steps, tmp_path, capfd):
    target = tmp_path / "precious"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    assert main(["--ckpt-dir", str(many_steps), "--target-dir", str(target)]) == 2
    assert "refusing to replace it" in capfd.readouterr().err
    assert (target / "notes.txt").read_text() == "keep me"


def test_a_folder_the_converter_did_not_make_is_never_replaced(many_steps, tmp_path, capfd, monkeypatch):
    """The reported attack: a project folder holding a `config.json` (a Node app) as --target-dir `.` lost `src/`."""
    victim = tmp_path / "victim"
    (victim / "src").mkdir(parents=True)
    (victim / "config.json").write_text('{"name": "my-app"}')
    (victim / "src" / "precious.py").write_text("work")
    monkeypatch.chdir(victim)
    assert main(["--ckpt-dir", str(many_steps), "--target-dir", ".", "--no-check"]) == 2
    assert "is the current directory" in capfd.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert main(["--ckpt-dir", str(many_steps), "--target-dir", str(victim), "--no-check"]) == 2
    assert "was not made by this converter" in capfd.readouterr().err
    assert (victim / "src" / "precious.py").read_text() == "work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "victim"]  # nothing merged was left beside it


@pytest.mark.parametrize("where", ["ckpt", "inside ckpt", "above ckpt", "base model"])
def test_the_checkpoint_and_the_base_model_are_refused_as_targets(where, many_steps, tiny_model_dir, tmp_path, capfd):
    base = tmp_path / "base"
    shutil.copytree(tiny_model_dir, base)
    target = {
        "ckpt": many_steps,
        "inside ckpt": many_steps / "global_step_1" / "hf",
        "above ckpt": tmp_path,
        "base model": base,
    }[where]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    argv = ["--ckpt-dir", str(many_steps), "--target-dir", str(target), "--base-model", str(base), "--no-check"]
    assert main(argv) == 2
    err = capfd.readouterr().err
    assert "the checkpoint folder" in err or "the base model" in err or "the current directory" in err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_converted_folder_is_marked_replaceable_and_has_ordinary_modes(many_steps, tmp_path):
    import json
    import os
    import stat

    target = tmp_path / "hf"
    target.mkdir()  # an empty folder is fine
    assert main(["--ckpt-dir", str(many_steps), "--target-dir", str(target), "--no-check"]) == 0
    marker = json.loads((target / "rwml_converted.json").read_text())
    assert marker["converted_by"] == "recipe.rwml.convert_to_hf" and marker["actor_dir"].endswith("actor")
    umask = os.umask(0)
    os.umask(umask)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in target.iterdir()}
    assert modes["model.safetensors"] == 0o666 & ~umask, modes
    assert set(modes.values()) == {0o666 & ~umask}, modes
    assert main(["--ckpt-dir", str(many_steps), "--step", "1", "--target-dir", str(target), "--no-check"]) == 0


def test_a_tokenizer_of_another_model_fails_the_check(many_steps, tmp_path, capfd):
    """A 300-token tokenizer in the checkpoint of a 512-row embedding converts, and the check refuses it."""
    from recipe.rwml.base_models import make_tiny_model

    small = make_tiny_model(tmp_path / "small", vocab_size=300)
    hf = many_steps / "global_step_10" / "actor" / "huggingface"
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (small / name).exists():
            shutil.copy(small / name, hf / name)
    target = tmp_path / "hf"
    assert main(["--ckpt-dir", str(many_steps), "--target-dir", str(target)]) == 2
    assert "the tokenizer belongs to another model" in capfd.readouterr().err
    assert not target.exists()


def test_a_changed_rope_theta_fails_against_the_base_model(many_steps, tiny_model_dir, tmp_path, capfd):
    import json

    config_path = many_steps / "global_step_10" / "actor" / "huggingface" / "config.json"
    config = json.loads(config_path.read_text())
    rope = config.get("rope_parameters") or config  # transformers 5 keeps rope_theta in rope_parameters
    rope["rope_theta"] = float(rope.get("rope_theta", 10000.0)) * 4
    config_path.write_text(json.dumps(config))
    target = tmp_path / "hf"
    argv = ["--ckpt-dir", str(many_steps), "--target-dir", str(target), "--base-model", str(tiny_model_dir)]
    assert main([*argv, "--no-check", "--dtype", "fp32"]) == 2
    err = capfd.readouterr().err
    assert "computes another function than the base model" in err and "rope" in err
    assert not target.exists()
