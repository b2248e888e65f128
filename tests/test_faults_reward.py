"""Fault corpus, area "reward": the reward's embedding backend fails loud, never scores silent zeros.

One TABLE of attacks, each the bad thing a user meets and the one-line error (or the result) expected:
- `endpoint`: an OpenAI-compatible embeddings endpoint (tests/openai_stub.py on 127.0.0.1) answering a body
  from tests/fault_corpus/reward/endpoint/ -> `EmbeddingBackendError` naming the URL and the model, from the
  public `compute_score` / `compute_score_batch`;
- `model`: a local embedder id or path that cannot be loaded -> `EmbedderLoadError` naming it;
- `filter`: `python -m data_prep.filter_easy` flags and files (bad inputs and caches in the corpus) -> exit 2, one
  line on stderr, nothing written;
- `evaluate`: `evaluate --wm-parquet` with a backend that cannot load or bad reward settings -> EvalError.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from benchmarks.bench_wm_dataset import write_synthetic_episodes
from data_prep import build_wm_dataset, filter_easy
from data_prep.cli_errors import run_cli
from recipe.rwml.evaluate.errors import EvalError
from recipe.rwml.evaluate.world_model import WorldModelSettings, evaluate_world_model
from reward_score import compute_score, compute_score_batch
from reward_score.answer_format import STATE_CLOSE, STATE_OPEN, THINK_CLOSE, THINK_OPEN
from reward_score.embedders import EmbedderLoadError, EmbeddingBackendError
from tests.openai_stub import embeddings_body, free_port_url, openai_stub

CORPUS = Path(__file__).parent / "fault_corpus" / "reward"
EMBEDDER = "stub-embedder"
REAL = "You arrive at shelf 1. On the shelf 1, you see a book 2."
PRED = "You arrive at shelf 1. On the shelf 1, you see nothing."
UNKNOWN_ID = "no-such-org/no-such-embedder"
NOT_THERE_YET = CORPUS / "models" / "not-there-yet"  # a path the user has not downloaded to yet


@dataclass(frozen=True)
class Attack:
    name: str
    kind: str  # endpoint | model | filter | evaluate
    arg: Any  # endpoint: (HTTP status, corpus file, content type, reward mode); model: id/path; filter: argv
    expect: tuple[str, ...]  # substrings of the one error line (or, for a result, "score=<value>")


def ep(name: str, status: int, body: str, *expect: str, ctype: str = "application/json", mode: str = "binary"):
    return Attack(name, "endpoint", (status, body, ctype, mode), expect)


def fl(name: str, args: list[str], *expect: str) -> Attack:
    return Attack(name, "filter", args, expect)


TABLE: list[Attack] = [
    # -- an embeddings endpoint that answers no usable embedding
    ep("nan_binary", 200, "nan.json", "NaN or inf", "dtype"),
    ep("nan_cosine", 200, "nan.json", "NaN or inf", "dtype", mode="cosine"),
    ep("inf_cosine", 200, "inf.json", "NaN or inf", mode="cosine"),
    ep("overflowing_number", 200, "overflow.json", "NaN or inf"),
    ep("zero_vector_binary", 200, "zero_vector.json", "zero vectors", "undefined"),
    ep("zero_vector_cosine", 200, "zero_vector.json", "zero vectors", mode="cosine"),
    ep("rows_of_two_sizes", 200, "ragged.json", "different sizes [2, 3]"),
    ep("null_row", 200, "null_row.json", "not lists of numbers", "encoding_format=float"),
    ep("base64_rows", 200, "base64_rows.json", "not lists of numbers"),
    ep("duplicate_index", 200, "duplicate_index.json", "indices [0, 0]"),
    ep("one_row_for_two_texts", 200, "one_row.json", "returned 1 embeddings for 2 inputs"),
    ep("three_rows_for_two_texts", 200, "three_rows.json", "returned 3 embeddings for 2 inputs"),
    ep("no_data_field", 200, "no_data.json", "no list of embeddings"),
    ep("200_html_claiming_json", 200, "not_json.html", "not JSON", "OpenAI-compatible server"),
    ep("200_html_page", 200, "not_json.html", "not JSON", "Welcome to nginx", ctype="text/html"),
    ep("200_truncated_json", 200, "truncated.json", "not JSON"),
    ep("http_500", 500, "http_500.json", "HTTP 500", "CUDA out of memory", "server's log"),
    ep("http_404", 404, "http_404.json", "HTTP 404", "serves this model"),
    # a good answer, out of order and unnormalised, still scores right: orthogonal rows -> cosine 0
    ep("shuffled_unnormalised_ok", 200, "shuffled_orthogonal.json", "score=0.0", mode="cosine"),
    # -- a local embedder that cannot be loaded
    Attack("model_id_not_in_cache", "model", UNKNOWN_ID, (UNKNOWN_ID, "local Hugging Face cache", "local path")),
    Attack("model_path_not_there_yet", "model", str(NOT_THERE_YET), (str(NOT_THERE_YET), "does not exist")),
    Attack(
        "model_dir_without_a_model",
        "model",
        str(CORPUS / "model_dir_not_a_model"),
        ("cannot load", "model_dir_not_a_model", "model folder"),
    ),
    # -- the easy filter's flags and files ({corpus}: tests/fault_corpus/reward, {tmp}: a copy of its caches)
    fl("filter_input_not_parquet", ["--input", "{corpus}/not_parquet.parquet"], "not_parquet.parquet", "not a parquet"),
    fl("filter_input_empty_file", ["--input", "{corpus}/empty.parquet"], "empty.parquet", "is not a parquet file"),
    fl("filter_input_truncated", ["--input", "{corpus}/truncated.parquet"], "truncated.parquet", "not a parquet"),
    fl("filter_input_wrong_columns", ["--input", "{corpus}/wrong_columns.parquet"], "missing columns", "'prompt'"),
    fl("filter_input_a_directory", ["--input", "{corpus}"], "--input", "is a directory"),
    fl("filter_input_a_fifo_dev_zero", ["--input", "/dev/zero"], "/dev/zero", "is not a regular file"),
    fl("filter_ground_truth_a_list", ["--input", "{corpus}/ground_truth_list.parquet"], "reward_model.ground_truth"),
    fl(
        "filter_reward_model_a_json_string",
        ["--input", "{corpus}/reward_model_json_string.parquet"],
        "reward_model_json_string.parquet",
        "column 'reward_model' is string",
    ),
    fl("filter_ground_truth_null", ["--input", "{corpus}/ground_truth_null.parquet"], "row 2", "is null"),
    fl("filter_temperature_nan", ["--temperature", "nan"], "--temperature must be a finite number >= 0, got nan"),
    fl("filter_temperature_negative", ["--temperature", "-3"], "--temperature must be", "got -3"),
    fl("filter_exclude_not_parquet", ["--exclude-tasks-from", "{corpus}/not_parquet.parquet"], "--exclude-tasks-from"),
    fl("filter_reward_kwargs_unknown_key", ["--reward-kwargs", '{"taux": 0.9}'], "setting(s) ['taux']", "'tau'"),
    fl("filter_reward_kwargs_bad_json", ["--reward-kwargs", "{tau: 0.9"], "--reward-kwargs is not JSON", "object"),
    fl("filter_reward_kwargs_a_list", ["--reward-kwargs", "[0.9]"], "--reward-kwargs is a JSON list"),
    fl("filter_reward_kwargs_bad_tau", ["--reward-kwargs", '{"tau": 7}'], "--reward-kwargs", "tau[default]=7"),
    fl("filter_embedder_id_not_in_cache", ["--reward-kwargs", f'{{"model": "{UNKNOWN_ID}"}}'], UNKNOWN_ID, "cache"),
    fl("filter_embedder_path_not_there", ["--reward-kwargs", f'{{"model": "{NOT_THERE_YET}"}}'], "does not exist"),
    fl("filter_embedder_endpoint_nan", ["--reward-kwargs", "nan-endpoint"], "embedding endpoint http://", "NaN"),
    fl("filter_embedder_endpoint_down", ["--reward-kwargs", "down-endpoint"], "failed after 0 retries", "start the"),
    fl("filter_cache_all_bad_input", ["--cache", "{tmp}/cache_all_bad_input.jsonl"], "3 cached samples scored bad"),
    fl("filter_cache_version_1_zeros", ["--cache", "{tmp}/cache_v1_zeros.jsonl"], "cache of version 1", "delete"),
    fl("filter_cache_not_utf8", ["--cache", "{tmp}/cache_not_utf8.jsonl"], "utf8.jsonl:1: not a filter_easy score"),
    # -- evaluate --wm-parquet
    Attack("evaluate_embedder_not_in_cache", "evaluate", f'{{"model": "{UNKNOWN_ID}"}}', (UNKNOWN_ID, "--wm-reward")),
    Attack("evaluate_reward_kwargs_unknown_key", "evaluate", '{"budget": 10}', ("unknown reward setting(s)", "budget")),
    Attack("evaluate_reward_kwargs_bad_json", "evaluate", "{'tau': 0.9}", ("--wm-reward-kwargs is not JSON",)),
]


def tagged(state: str) -> str:
    return f"{THINK_OPEN}I look at the shelf.{THINK_CLOSE}{STATE_OPEN}{state}{STATE_CLOSE}"


@pytest.fixture(scope="module")
def wm_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny world-model parquet made by the project's own builder."""
    d = tmp_path_factory.mktemp("wm")
    write_synthetic_episodes(d / "episodes.jsonl", 6, steps_per_episode=3, n_tasks=2)
    args = ["--input", str(d / "episodes.jsonl"), "--out-dir", str(d), "--val-fraction", "0"]
    assert build_wm_dataset.main(args) == 0
    return d / "train.parquet"


def endpoint_answer(status: int, body: str, ctype: str):
    data = (CORPUS / "endpoint" / body).read_bytes()
    return lambda req: (status, data, ctype)


def run_endpoint_attack(attack: Attack) -> list[str]:
    """The error lines (or `score=` results) of `compute_score` and `compute_score_batch` against the stub."""
    status, body, ctype, mode = attack.arg
    lines = []
    with openai_stub(None, embed=endpoint_answer(status, body, ctype)) as server:
        kwargs = {"base_url": server.base_url, "model": EMBEDDER, "max_retries": 0, "timeout_s": 5, "mode": mode}
        for batch in (False, True):
            try:
                if batch:
                    result = compute_score_batch(["alfworld"] * 2, [tagged(PRED)] * 2, [REAL] * 2, None, **kwargs)[0]
                else:
                    result = compute_score("alfworld", tagged(PRED), REAL, **kwargs)
            except EmbeddingBackendError as err:
                assert server.base_url in str(err) and f"model {EMBEDDER!r}" in str(err)
                lines.append(str(err))
            else:
                lines.append(f"score={result['score']}")
    return lines


def run_filter_attack(attack: Attack, wm: Path, tmp_path: Path, capsys) -> str:
    for cache in CORPUS.glob("cache_*.jsonl"):  # the filter may repair a cache: it works on a copy
        shutil.copy(cache, tmp_path / cache.name)
    args = [a.replace("{corpus}", str(CORPUS)).replace("{tmp}", str(tmp_path)) for a in attack.arg]
    out = tmp_path / "filtered.parquet"
    base = ["--input", str(wm), "--out", str(out), "--base-url", free_port_url(), "--model", "stub-model", "--k", "2"]

    def nan(req: dict[str, Any]) -> tuple[int, dict[str, Any], str]:  # one NaN row per text, whatever is asked
        return 200, embeddings_body([[float("nan"), 0.5]] * len(req["input"])), "application/json"

    with openai_stub(None, embed=nan) as embedder:
        ends = {"nan-endpoint": embedder.base_url, "down-endpoint": free_port_url()}
        if args[-1] in ends:
            args[-1] = f'{{"base_url": "{ends[args[-1]]}", "max_retries": 0, "timeout_s": 5}}'
        capsys.readouterr()
        rc = run_cli(filter_easy.main, base + args, known=filter_easy.KNOWN_ERRORS)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert not out.exists() and not (tmp_path / "filtered_report").exists()  # nothing kept
    lines = [line for line in err.splitlines() if line.startswith("error")]  # beside it: a model's loading bar
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def run_evaluate_attack(attack: Attack, wm: Path, tmp_path: Path) -> str:
    args = WorldModelSettings(
        parquet=str(wm),
        max_samples=None,
        temperature=0.0,
        max_tokens=64,
        reward_kwargs=attack.arg,
        base_url=free_port_url(),
        api_key="EMPTY",
        timeout=5,
        model="stub-model",
    )
    with pytest.raises(EvalError) as info:
        evaluate_world_model(args, tmp_path)
    assert not (tmp_path / "wm_predictions.jsonl").exists()  # nothing asked of the world model
    return str(info.value)


@pytest.mark.parametrize("attack", TABLE, ids=[a.name for a in TABLE])
def test_attack(attack: Attack, wm_parquet: Path, tmp_path: Path, capsys) -> None:
    if attack.kind == "endpoint":
        lines = run_endpoint_attack(attack)
    elif attack.kind == "model":
        lines = []
        for score, args in [
            (compute_score, ("alfworld", tagged(PRED), REAL)),
            (compute_score_batch, (["alfworld"], [tagged(PRED)], [REAL])),
        ]:
            with pytest.raises(EmbedderLoadError) as info:
                score(*args, model=attack.arg)
            lines.append(str(info.value))
    elif attack.kind == "filter":
        lines = [run_filter_attack(attack, wm_parquet, tmp_path, capsys)]
    else:
        lines = [run_evaluate_attack(attack, wm_parquet, tmp_path)]
    for line in lines:
        assert "\n" not in line, line
        for part in attack.expect:
            assert part in line, f"{attack.name}: {part!r} not in {line!r}"


def test_table_covers_every_kind_and_names_are_unique() -> None:
    assert len({a.name for a in TABLE}) == len(TABLE)
    assert {a.kind for a in TABLE} == {"endpoint", "model", "filter", "evaluate"}
    used = {a.arg[1] for a in TABLE if a.kind == "endpoint"} | {"nan.json"}
    assert used == {p.name for p in (CORPUS / "endpoint").iterdir()}  # every corpus body is attacked
    assert pq.read_schema(CORPUS / "wrong_columns.parquet").names == ["question", "answer"]
