"""Drop most of the easy samples from a world-model parquet (RWML's easy-sample filter).

A world model (the small SFT model, served by vLLM or any OpenAI-compatible server) answers every prompt K times
(default 10); each answer is scored with the project's reward (`reward_score.compute_score_batch`, the same
sim-to-real reward stage 1 trains on). A sample whose mean reward >= tau_easy is easy and is kept only with
probability p (default 0.1); every other sample is kept. tau_easy is given (`--tau-easy`) or chosen so that the
fraction of easy samples is as close as possible to `--easy-fraction` (default 0.3): mean rewards are discrete
(K binary rewards give K + 1 values), so the realised fraction is reported beside the target.

Resumable: each sample's K rewards go to a JSONL cache (default OUT.cache.jsonl) as soon as they are scored; a
rerun scores only the samples missing there. The cache's first line records the sampling and reward settings; a
rerun with other settings is refused rather than mixing scores. Seeded: the keep decision of a sample depends only
on `--seed` and the sample's content, and the server gets a per-sample seed. An unreachable endpoint, or a server
error, stops the run with the error (scores so far stay cached), never a reward of 0.

The paper trains the small world model on 10% of the data and filters the other 90%: build its SFT data with
`build_sft_dataset --train-task-fraction 0.1` and pass that train.parquet to `--exclude-tasks-from`; rows of those
tasks are left out of OUT, unscored.

The reward backend is loaded and asked for one embedding before anything is sampled: an embedder that cannot be
loaded or answer stops the run with one line naming it (exit 2), nothing kept and nothing cached.

Writes OUT (the kept rows, same schema as the input, atomically), REPORT_DIR/report.json (counts, tau_easy, the
realised easy fraction) and REPORT_DIR/mean_reward_hist.png. Sampling, scoring and the cache are in
data_prep.easy_scores; this module picks tau_easy, selects the rows and reports.

    python -m data_prep.filter_easy --input data/wm/train.parquet --out data/wm/train_filtered.parquet \\
        --base-url http://127.0.0.1:8000/v1 --model wm-sft --k 10 --p-keep 0.1 --easy-fraction 0.3
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from data_prep.atomic_file import atomic_path, write_json_atomic
from data_prep.cli_errors import ArgumentParser, run_cli
from data_prep.easy_scores import (
    CACHE_VERSION,
    FilterError,
    ScoreCache,
    iter_rows,
    sample_key,
    score_all,
    task_of,
    unit_hash,
)
from reward_score.embedders import EmbeddingBackendError
from reward_score.reward_functions import check_backend
from reward_score.settings import RewardSettings

# The errors whose message already says what, where and what to do: one line, exit 2.
KNOWN_ERRORS = (FilterError, EmbeddingBackendError)


def load_excluded(paths: list[str]) -> set[tuple[str, str]]:
    """The (data_source, task id) pairs of the rows in `paths` (e.g. the SFT subset the filter model learned from)."""
    excluded: set[tuple[str, str]] = set()
    for path in paths:
        pf = open_parquet(Path(path), "--exclude-tasks-from", {"data_source", "extra_info"})
        excluded.update(map(task_of, pf.read(columns=["data_source", "extra_info"]).to_pylist()))
    return excluded


def open_parquet(path: Path, flag: str, columns: set[str]) -> pq.ParquetFile:
    """`path` opened as parquet with `columns`; FilterError naming the file and the flag when it is not one."""
    if not path.is_file():
        if path.is_dir():
            what = "is a directory, not a parquet file"
        elif path.exists():
            what = "is not a regular file (a FIFO, a device or a socket)"
        else:
            what = "does not exist"
        raise FilterError(f"{flag} {path} {what}, pass a world-model parquet written by data_prep.build_wm_dataset")
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise FilterError(
            f"{path} is not a parquet file ({first}), {flag}, pass a world-model parquet written by "
            "data_prep.build_wm_dataset (train.parquet)"
        ) from err
    missing = columns - set(pf.schema_arrow.names)
    if missing:
        raise FilterError(
            f"{path}: not a world-model parquet (missing columns {sorted(missing)}), {flag}, "
            "pass a parquet written by data_prep.build_wm_dataset"
        )
    return pf


def _type_problem(path: Path, column: str, found: pa.DataType, expected: str) -> FilterError:
    return FilterError(
        f"{path}: column '{column}' is {found}, expected {expected}, --input, pass a world-model parquet written by "
        "data_prep.build_wm_dataset"
    )


def check_input(path: Path) -> int:
    """The number of rows of the world-model parquet at `path`; FilterError, naming the file, the column and the
    row, when a column has another type than build_wm_dataset writes (checked before any sample is asked for)."""
    pf = open_parquet(path, "--input", {"data_source", "prompt", "reward_model"})
    schema = pf.schema_arrow
    if not pa.types.is_string(schema.field("data_source").type) and not pa.types.is_large_string(
        schema.field("data_source").type
    ):
        raise _type_problem(path, "data_source", schema.field("data_source").type, "a string")
    prompt = schema.field("prompt").type
    if not (pa.types.is_list(prompt) or pa.types.is_large_list(prompt)) or not pa.types.is_struct(prompt.value_type):
        raise _type_problem(path, "prompt", prompt, "a list of {role, content} messages")
    if {prompt.value_type.field(i).name for i in range(prompt.value_type.num_fields)} < {"role", "content"}:
        raise _type_problem(path, "prompt", prompt, "a list of {role, content} messages")
    reward = schema.field("reward_model").type
    if not pa.types.is_struct(reward) or reward.get_field_index("ground_truth") < 0:
        raise _type_problem(path, "reward_model", reward, "a struct with a string ground_truth")
    truth = reward.field("ground_truth").type
    if not (pa.types.is_string(truth) or pa.types.is_large_string(truth)):
        raise _type_problem(path, "reward_model.ground_truth", truth, "a string (the real next state)")
    row = 0
    for batch in pf.iter_batches(columns=["reward_model"]):
        truths = batch.column(0).field("ground_truth")
        if truths.null_count:
            first = next(i for i, v in enumerate(truths.is_null().to_pylist()) if v)
            raise FilterError(
                f"{path}: row {row + first}: column 'reward_model.ground_truth' is null, expected a string, --input, "
                "rebuild it with data_prep.build_wm_dataset"
            )
        row += batch.num_rows
    return pf.metadata.num_rows


def choose_tau(means: list[float], easy_fraction: float) -> float:
    """The threshold whose easy fraction (mean >= tau) is closest to `easy_fraction`; ties go to the higher tau.

    Candidates are the observed means and one value above the largest (nothing easy), so all-zero rewards do not
    make every sample easy.
    """
    if not means:
        raise FilterError("no scored samples to choose tau_easy from")
    values = sorted(set(means))
    candidates = [*values, math.nextafter(values[-1], math.inf)]
    n = len(means)
    ordered = sorted(means)

    def frac(tau: float) -> float:
        import bisect

        return (n - bisect.bisect_left(ordered, tau)) / n

    return min(reversed(candidates), key=lambda t: abs(frac(t) - easy_fraction))


def write_histogram(means: list[float], tau: float, path: Path, k: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    bins = [(i - 0.5) / k for i in range(k + 2)] if k <= 50 else 20
    ax.hist(means, bins=bins, color="#4C72B0", edgecolor="white")
    ax.axvline(tau, color="#C44E52", linestyle="--", label=f"tau_easy = {tau:.3f}")
    ax.set_xlabel(f"mean reward over {k} predictions")
    ax.set_ylabel("samples")
    ax.set_title(f"World-model difficulty ({len(means)} samples)")
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", required=True, help="world-model parquet (data_prep.build_wm_dataset train.parquet)")
    p.add_argument("--out", required=True, help="filtered parquet to write")
    p.add_argument("--base-url", required=True, help="OpenAI-compatible endpoint of the world model, .../v1")
    p.add_argument("--model", required=True, help="served model name")
    p.add_argument("--api-key", default="EMPTY")
    p.add_argument("--k", type=int, default=10, help="predictions per sample")
    p.add_argument("--p-keep", type=float, default=0.1, help="probability of keeping an easy sample")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--tau-easy", type=float, default=None, help="mean reward from which a sample is easy")
    g.add_argument("--easy-fraction", type=float, default=0.3, help="choose tau_easy so this fraction is easy")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", default=None, help="score cache JSONL (default: OUT.cache.jsonl)")
    p.add_argument("--report-dir", default=None, help="report.json + histogram (default: OUT_report/)")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--max-tokens", type=int, default=512)
    p.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per request")
    p.add_argument("--reward-kwargs", default="{}", help="JSON of reward settings (reward_score.RewardSettings)")
    p.add_argument(
        "--exclude-tasks-from",
        nargs="+",
        default=[],
        help="parquet(s) whose tasks are left out of the output unscored (the filter model's SFT train.parquet)",
    )
    return p


def reward_kwargs_of(args: argparse.Namespace) -> dict[str, Any]:
    """The reward settings of checked arguments; a bad argument raises FilterError naming it."""
    if args.k < 1:
        raise FilterError(f"--k must be >= 1, got {args.k}")
    if not 0.0 <= args.p_keep <= 1.0:
        raise FilterError(f"--p-keep must be in [0, 1], got {args.p_keep}")
    if args.tau_easy is None and not 0.0 < args.easy_fraction < 1.0:
        raise FilterError(f"--easy-fraction must be in (0, 1), got {args.easy_fraction}")
    if args.concurrency < 1:
        raise FilterError(f"--concurrency must be >= 1, got {args.concurrency}")
    if not math.isfinite(args.temperature) or args.temperature < 0:
        raise FilterError(f"--temperature must be a finite number >= 0, got {args.temperature}")
    if args.max_tokens < 1:
        raise FilterError(f"--max-tokens must be >= 1, got {args.max_tokens}")
    if not math.isfinite(args.timeout) or args.timeout <= 0:
        raise FilterError(f"--timeout must be a number of seconds > 0, got {args.timeout}")
    try:
        return RewardSettings.from_json(args.reward_kwargs, "--reward-kwargs")
    except ValueError as err:
        raise FilterError(str(err)) from err


def write_kept(
    src: Path, out: Path, keys_means: list[tuple[str, float | None]], tau: float, seed: int, p_keep: float
) -> dict[str, int]:
    """Write the kept rows of `src` to `out` (atomically); return the counts of easy, easy kept, hard, excluded rows.

    `keys_means` holds each row's (sample key, mean reward) in file order; None marks a row of an excluded task.
    An easy row (mean >= tau) is kept when its seeded hash falls below `p_keep`; every hard row is kept.
    """
    counts = {"easy": 0, "easy_kept": 0, "hard": 0, "excluded": 0}
    pf = pq.ParquetFile(src)
    with atomic_path(out) as tmp, pq.ParquetWriter(tmp, pf.schema_arrow) as writer:
        pos = 0
        for batch in pf.iter_batches(batch_size=4096):
            mask = []
            for key, mean in keys_means[pos : pos + batch.num_rows]:
                if mean is None:
                    counts["excluded"] += 1
                    keep = False
                elif mean >= tau:
                    counts["easy"] += 1
                    keep = unit_hash(seed, key, "keep") < p_keep
                    counts["easy_kept"] += keep
                else:
                    counts["hard"] += 1
                    keep = True
                mask.append(keep)
            pos += batch.num_rows
            writer.write_table(pa.Table.from_batches([batch]).filter(pa.array(mask, type=pa.bool_())))
    return counts


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Score, choose tau_easy, write the kept rows and the report; return the report."""
    reward_kwargs = reward_kwargs_of(args)

    src, out = Path(args.input), Path(args.out)
    if src.resolve() == out.resolve():
        raise FilterError("--out must differ from --input")
    total = check_input(src)
    excluded = load_excluded(args.exclude_tasks_from)
    check_backend(reward_kwargs)  # before any sampling or caching: a backend that fails stops here
    cache_path = Path(args.cache) if args.cache else out.with_name(out.name + ".cache.jsonl")
    default_report = out.with_name(out.name.removesuffix(".parquet") + "_report")
    report_dir = Path(args.report_dir) if args.report_dir else default_report
    meta = {
        "version": CACHE_VERSION,
        "model": args.model,
        "k": args.k,
        "temperature": args.temperature,
        "max_tokens": args.max_tokens,
        "seed": args.seed,
        "reward_kwargs": reward_kwargs,
        # the rule each env is scored by, resolved: a default that changes (mode, documented tau) is a new cache
        "reward_rule": {
            env: [s.mode_for(env), s.tau_for(env)]
            for s in [RewardSettings(**reward_kwargs)]
            for env in ("alfworld", "tau2", "default")
        },  # fmt: skip
    }
    cache = ScoreCache(cache_path, meta)
    cached_before = len(cache.means)
    score_all(args, src, total, cache, reward_kwargs, excluded)

    keys_means: list[tuple[str, float | None]] = []  # None: a row of an excluded task
    for rows in iter_rows(src, 4096):
        for row in rows:
            key = sample_key(row)
            keys_means.append((key, None if task_of(row) in excluded else cache.means[key]))
    means = [m for _, m in keys_means if m is not None]
    tau = args.tau_easy if args.tau_easy is not None else choose_tau(means, args.easy_fraction)

    counts = write_kept(src, out, keys_means, tau, args.seed, args.p_keep)

    n = len(means)
    report = {
        "input": str(src),
        "output": str(out),
        "samples": n,
        "excluded_rows": counts["excluded"],
        "excluded_tasks_from": list(args.exclude_tasks_from),
        "scored_this_run": len(cache.means) - cached_before,
        "easy": counts["easy"],
        "easy_kept": counts["easy_kept"],
        "hard_kept": counts["hard"],
        "kept": counts["hard"] + counts["easy_kept"],
        "dropped": counts["easy"] - counts["easy_kept"],
        "tau_easy": tau,
        "tau_easy_chosen": args.tau_easy is None,
        "target_easy_fraction": None if args.tau_easy is not None else args.easy_fraction,
        "easy_fraction": counts["easy"] / n if n else 0.0,
        "mean_reward": sum(means) / n if n else 0.0,
        "k": args.k,
        "p_keep": args.p_keep,
        "seed": args.seed,
        "model": args.model,
        "cache": str(cache_path),
    }
    report_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(report_dir / "report.json", report)
    write_histogram(means, tau, report_dir / "mean_reward_hist.png", args.k)
    return report


def main(argv: list[str] | None = None) -> int:
    """Filter as the flags ask; errors raise (`KNOWN_ERRORS`), `run_cli` prints them as one line and exits 2."""
    args = build_parser().parse_args(argv)
    report = run(args)
    print(
        f"{report['samples']} samples, {report['easy']} easy ({report['easy_fraction']:.1%}, tau_easy "
        f"{report['tau_easy']:.3f}); kept {report['kept']} ({report['hard_kept']} hard + {report['easy_kept']} easy) "
        f"-> {report['output']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main, known=KNOWN_ERRORS))
