"""The easy-sample filter against a stand-in OpenAI-compatible endpoint, scored with the real reward (MiniLM).

The stand-in answers 30% of the prompts with the real next state (reward 1 every time) and the rest with a wrong
state (reward 0), so the easy set is known and the kept fraction can be checked.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from benchmarks.bench_wm_dataset import write_synthetic_episodes
from data_prep import build_sft_dataset, build_wm_dataset, filter_easy
from data_prep.cli_errors import run_cli
from reward_score.answer_format import STATE_CLOSE, STATE_OPEN, THINK_CLOSE, THINK_OPEN, with_status
from reward_score.embedders import minilm_path
from tests.conftest import REPO_ROOT
from tests.openai_stub import free_port_url, openai_stub

N = 100
K = 4
_ROOM = re.compile(r"room (\d+)")
_ACTION = re.compile(r"next action \(Action \d+\):\ngo to shelf (\d+)")


def is_easy(step: int) -> bool:
    return step % 10 < 3  # 30% of the synthetic steps


def responder(req: dict[str, Any]) -> str:
    user = req["messages"][-1]["content"]
    room, shelf = int(_ROOM.search(user).group(1)), int(_ACTION.search(user).group(1))
    state = f"You arrive at shelf {shelf} in room {room}." if is_easy(shelf) else "A cat sleeps on the sofa 2."
    return f"{THINK_OPEN}I go to the shelf.{THINK_CLOSE}{STATE_OPEN}{with_status(state, False)}{STATE_CLOSE}"


@pytest.fixture(scope="module")
def wm_train(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("wm")
    write_synthetic_episodes(d / "episodes.jsonl", N, steps_per_episode=20, n_tasks=5)
    args = ["--input", str(d / "episodes.jsonl"), "--out-dir", str(d), "--val-fraction", "0"]
    assert build_wm_dataset.main(args) == 0
    assert pq.ParquetFile(d / "train.parquet").metadata.num_rows == N
    return d / "train.parquet"


def filter_argv(src: Path, out: Path, url: str, *extra: str) -> list[str]:
    return ["--input", str(src), "--out", str(out), "--base-url", url, "--model", "stub-model", "--k", str(K)] + [
        "--concurrency",
        "4",
        *extra,
    ]


def run_filter(src: Path, out: Path, url: str, *extra: str) -> int:
    """The command as `python -m data_prep.filter_easy` runs it: errors are one line on stderr and exit 2."""
    return run_cli(filter_easy.main, filter_argv(src, out, url, *extra), known=filter_easy.KNOWN_ERRORS)


def read(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()


def test_keeps_all_hard_and_about_p_of_easy_samples_and_resumes(wm_train: Path, tmp_path: Path) -> None:
    out = tmp_path / "filtered.parquet"
    with openai_stub(responder, honour_n=True) as server:
        assert run_filter(wm_train, out, server.base_url, "--p-keep", "0.1", "--easy-fraction", "0.3") == 0
        assert len(server.requests) == N and all(r["n"] == K for r in server.requests)  # n=K in one request
        first = read(out)
        report = json.loads((tmp_path / "filtered_report" / "report.json").read_text())

        # rerun: every score comes from the cache, the output is the same
        assert run_filter(wm_train, out, server.base_url, "--p-keep", "0.1", "--easy-fraction", "0.3") == 0
        assert len(server.requests) == N
        assert read(out) == first

    cache = [json.loads(x) for x in (tmp_path / "filtered.parquet.cache.jsonl").read_text().splitlines()]
    assert cache[0]["meta"]["k"] == K and len(cache) == N + 1
    assert sorted({m["mean"] for m in cache[1:]}) == [0.0, 1.0]  # the stand-in's answers: always right or wrong
    assert report["samples"] == N and report["easy"] == 30 and report["tau_easy"] == 1.0
    assert report["easy_fraction"] == pytest.approx(0.3) and report["tau_easy_chosen"]
    steps = [r["extra_info"]["step"] for r in first]
    hard_kept = sum(not is_easy(s) for s in steps)
    easy_kept = sum(is_easy(s) for s in steps)
    assert hard_kept == N - 30 == report["hard_kept"]
    assert easy_kept == report["easy_kept"] <= 8  # Binomial(30, 0.1): P(> 8) < 0.001
    assert len(first) == report["kept"] == hard_kept + easy_kept
    assert pq.read_schema(out).equals(pq.read_schema(wm_train))  # still a world-model parquet
    png = (tmp_path / "filtered_report" / "mean_reward_hist.png").read_bytes()
    assert png.startswith(b"\x89PNG")


def test_keep_probability_one_keeps_all_and_a_given_tau(wm_train: Path, tmp_path: Path) -> None:
    cache = ["--cache", str(tmp_path / "scores.jsonl")]
    everything, hard = tmp_path / "all.parquet", tmp_path / "hard.parquet"
    with openai_stub(responder, honour_n=True) as server:
        assert run_filter(wm_train, everything, server.base_url, "--p-keep", "1", *cache) == 0
        assert run_filter(wm_train, hard, server.base_url, "--p-keep", "0", "--tau-easy", "0.5", *cache) == 0
        assert len(server.requests) == N  # the second run reads the shared cache
    assert len(read(everything)) == N
    assert len(read(hard)) == N - 30
    report = json.loads((tmp_path / "hard_report" / "report.json").read_text())
    assert report["tau_easy"] == 0.5 and not report["tau_easy_chosen"] and report["dropped"] == 30


def test_server_without_n_gets_k_requests_per_sample(wm_train: Path, tmp_path: Path) -> None:
    out = tmp_path / "filtered.parquet"
    with openai_stub(responder) as server:  # answers one choice whatever n asks
        assert run_filter(wm_train, out, server.base_url, "--tau-easy", "0.5", "--p-keep", "0") == 0
        assert len(server.requests) == N * K
    rows = read(out)
    assert len(rows) == N - 30 and not any(is_easy(r["extra_info"]["step"]) for r in rows)


def test_partial_cache_resumes_and_other_settings_are_refused(wm_train: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "filtered.parquet"
    cache = tmp_path / "filtered.parquet.cache.jsonl"
    with openai_stub(responder, honour_n=True) as server:
        assert run_filter(wm_train, out, server.base_url) == 0
        lines = cache.read_text().splitlines()
        cache.write_text("\n".join(lines[:41]) + "\n" + lines[41][:10])  # 40 scores and a torn line (a kill)
        assert run_filter(wm_train, out, server.base_url) == 0
        assert len(server.requests) == N + (N - 40)
        capsys.readouterr()
        assert run_filter(wm_train, out, server.base_url, "--temperature", "0.7") == 2
        assert "other settings" in capsys.readouterr().err and len(server.requests) == 2 * N - 40


def test_unreachable_endpoint_is_an_error_not_reward_zero(wm_train: Path, tmp_path: Path, capsys) -> None:
    url = free_port_url()
    out = tmp_path / "filtered.parquet"
    assert run_filter(wm_train, out, url) == 2
    err = capsys.readouterr().err
    assert url in err and "failed" in err
    assert not out.exists()


def test_tasks_of_the_filter_models_sft_subset_are_left_out(wm_train: Path, tmp_path: Path) -> None:
    episodes = wm_train.parent / "episodes.jsonl"
    sft = tmp_path / "sft"
    args = ["--input", str(episodes), "--out-dir", str(sft), "--val-fraction", "0", "--train-task-fraction", "0.2"]
    assert build_sft_dataset.main(args) == 0
    sft_tasks = {r["extra_info"]["task_id"] for r in read(sft / "train.parquet")}
    assert len(sft_tasks) == 1  # 20% of the 5 synthetic tasks
    out = tmp_path / "filtered.parquet"
    with openai_stub(responder, honour_n=True) as server:
        exclude = ["--exclude-tasks-from", str(sft / "train.parquet"), "--p-keep", "1"]
        assert run_filter(wm_train, out, server.base_url, *exclude) == 0
        assert len(server.requests) == N - 20  # the excluded task's 20 rows are not scored
    kept = read(out)
    assert len(kept) == N - 20 and not {r["extra_info"]["task_id"] for r in kept} & sft_tasks
    report = json.loads((tmp_path / "filtered_report" / "report.json").read_text())
    assert report["excluded_rows"] == 20 and report["samples"] == N - 20


def test_choose_tau_targets_the_fraction() -> None:
    assert filter_easy.choose_tau([0.0] * 10, 0.3) > 0.0  # nothing is easy when every sample fails
    means = [i / 10 for i in range(10)]  # 0.0 .. 0.9
    tau = filter_easy.choose_tau(means, 0.3)
    assert tau == 0.7 and sum(m >= tau for m in means) == 3
    assert filter_easy.choose_tau([1.0] * 7 + [0.0] * 3, 0.3) == 1.0 + 2**-52  # ties: 70% or 0% -> 0% is closer


def test_embedder_not_there_yet_stops_the_run_then_a_fixed_one_scores_everything(
    wm_train: Path, tmp_path: Path, capsys
) -> None:
    """Issue 13 #1: an embedder path that is not there yet exits 2 naming it, keeps and caches nothing; once the
    model is there the same command scores every sample (no zeros of the failed run reused)."""
    model = tmp_path / "models" / "minilm"
    reward = ["--reward-kwargs", json.dumps({"model": str(model), "tau": 0.98})]
    out = tmp_path / "filtered.parquet"
    cache = tmp_path / "filtered.parquet.cache.jsonl"
    with openai_stub(responder, honour_n=True) as server:
        capsys.readouterr()
        assert run_filter(wm_train, out, server.base_url, *reward) == 2
        err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
        assert len(err) == 1 and str(model) in err[0] and "does not exist" in err[0]
        assert not out.exists() and not cache.exists() and server.requests == []  # nothing kept, cached or asked

        model.parent.mkdir()
        model.symlink_to(minilm_path(), target_is_directory=True)  # the download lands
        assert run_filter(wm_train, out, server.base_url, *reward) == 0
        assert len(server.requests) == N
    report = json.loads((tmp_path / "filtered_report" / "report.json").read_text())
    assert report["scored_this_run"] == N and report["easy"] == 30  # the easy 30% score 1, not cached zeros
    means = [json.loads(x)["mean"] for x in cache.read_text().splitlines()[1:]]
    assert len(means) == N and sum(means) == 30


def test_kill_9_while_scoring_then_rerun_gives_the_uninterrupted_output(wm_train: Path, tmp_path: Path) -> None:
    """kill -9 of `python -m data_prep.filter_easy` in its second chunk of samples, then the same command again:
    the output is the one of an uninterrupted run, no sample scored twice, no temp file left."""
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    killed.mkdir(), whole.mkdir()
    proc: dict[str, subprocess.Popen] = {}
    served = threading.Semaphore(0)
    kill_at = 40  # chunks hold 32 samples at --concurrency 4 (and one request each): the kill is in the second

    def killing_responder(req: dict[str, Any]) -> str:
        if "p" in proc and len(server.requests) == kill_at:
            os.kill(proc["p"].pid, signal.SIGKILL)
            served.release()
        return responder(req)

    with openai_stub(killing_responder, honour_n=True) as server:
        argv = filter_argv(wm_train, killed / "out.parquet", server.base_url, "--p-keep", "0.5")
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        proc["p"] = subprocess.Popen(
            [sys.executable, "-m", "data_prep.filter_easy", *argv], cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE
        )
        _, stderr = proc["p"].communicate(timeout=120)
        assert proc["p"].returncode == -signal.SIGKILL, stderr.decode()[-2000:]
        assert served.acquire(timeout=1)
        cached = (killed / "out.parquet.cache.jsonl").read_text().splitlines()
        assert len(cached) == 1 + 32 and not (killed / "out.parquet").exists()  # the first chunk, nothing more

        del proc["p"]
        before = len(server.requests)  # the killed run's: up to --concurrency requests were in flight at the kill
        assert run_cli(filter_easy.main, argv, known=filter_easy.KNOWN_ERRORS) == 0
        assert len(server.requests) - before == N - 32  # only the samples missing from the cache are asked again
        assert run_filter(wm_train, whole / "out.parquet", server.base_url, "--p-keep", "0.5") == 0

    assert read(killed / "out.parquet") == read(whole / "out.parquet")
    reports = [json.loads((d / "out_report" / "report.json").read_text()) for d in (killed, whole)]
    same = ("samples", "easy", "easy_kept", "hard_kept", "kept", "tau_easy")
    assert [{k: r[k] for k in same} for r in reports][0] == {k: reports[1][k] for k in same}
    keys = [json.loads(x)["key"] for x in (killed / "out.parquet.cache.jsonl").read_text().splitlines()[1:]]
    assert len(keys) == len(set(keys)) == N  # no sample lost or scored twice
    expected = {"out.parquet", "out.parquet.cache.jsonl", "out_report"}
    assert {p.name for p in killed.iterdir()} == expected  # no stray temp file
    assert {p.name for p in (killed / "out_report").iterdir()} == {"report.json", "mean_reward_hist.png"}
