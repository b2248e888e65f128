"""The command-line options every calibration shares: the embedder it measures, the seed, and where results go.

`add_embedder_options` adds `--model`, `--base-url` and `--instruction`; `embedder_settings` turns them into the
`RewardSettings` the calibration scores with (everything else documented). `RESULTS` is the folder, relative to
the repository root, where the kept results live (`reward_calibration/results/`).
"""

from __future__ import annotations

import argparse

from reward_score.settings import RewardSettings

RESULTS = "reward_calibration/results"


def add_embedder_options(ap: argparse.ArgumentParser) -> None:
    """`--model` (a local sentence-transformers model or a served name), `--base-url`, `--instruction`."""
    ap.add_argument("--model", default=RewardSettings.model)
    ap.add_argument("--base-url", help="OpenAI-compatible embeddings endpoint instead of a local model")
    ap.add_argument("--instruction", help="query instruction for asymmetric embedders")


def add_seed_and_out(ap: argparse.ArgumentParser, out: str = RESULTS) -> None:
    """`--seed` (seeds the candidates) and `--out` (the folder the JSON, PNG and samples go to)."""
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=out)


def embedder_settings(args: argparse.Namespace) -> RewardSettings:
    """The documented reward settings with the embedder the options name."""
    return RewardSettings(model=args.model, base_url=args.base_url, instruction=args.instruction)
