"""Episodes JSONL -> world-model SFT parquet (verl 0.9.1 SFT trainer layout): train.parquet and val.parquet.

The same triplets, prompts, de-duplication, length filter and task split as data_prep.build_wm_dataset (same flags),
written for supervised fine-tuning: the WM-SFT baseline, and the small world model the easy-sample filter samples
from. For the latter (the paper: SFT on 10% of the data, filter the other 90%), `--train-task-fraction 0.1` keeps a
seeded 10% of the train tasks, and `filter_easy --exclude-tasks-from DIR/train.parquet` leaves those tasks out of
the RL data. Columns:

    messages    [system, user, assistant]: the world-model prompt, then the target answer
    system      the system message text        prompt    the user message text
    response    the target answer: an empty <think></think> block (the real reasoning is unknown) followed by
                <next_state>ground truth</next_state>, the format of reward_score.answer_format
    data_source, extra_info   as in the world-model parquet (extra_info.split, index, task_id, state_kind, ...)

verl 0.9.1's SFT trainer (`torchrun -m verl.trainer.sft_trainer`, config `sft_trainer_engine`) reads it with its
default dataset class, MultiTurnSFTDataset, which trains on the assistant turn only. The keys it needs:

    data.train_files=DIR/train.parquet data.val_files=DIR/val.parquet
    data.messages_key=messages            (the default)
    data.max_length=<prompt + response tokens, e.g. 2048 ALFWorld>  data.truncation=error|left|right
    model.path=<HF model>

Chat templates that rewrite <think> blocks in assistant turns (Qwen3) may tokenize the concatenated turns
differently from the whole conversation; verl then stops with an input_ids mismatch, and
`data.ignore_input_ids_mismatch=true` accepts its concatenation.

    python -m data_prep.build_sft_dataset --input alf.jsonl --out-dir data/wm_sft            # WM-SFT baseline
    python -m data_prep.build_sft_dataset --input alf.jsonl --out-dir data/filter_sft --train-task-fraction 0.1
"""

from __future__ import annotations

import sys
from typing import Any

import pyarrow as pa

from data_prep.build_wm_dataset import build_cli
from data_prep.cli_errors import run_cli
from data_prep.wm_triplets import EXTRA_INFO_TYPE, MESSAGES_TYPE, Triplet
from reward_score.answer_format import target_response

SFT_SCHEMA = pa.schema(
    [
        ("data_source", pa.string()),
        ("messages", MESSAGES_TYPE),
        ("system", pa.string()),
        ("prompt", pa.string()),
        ("response", pa.string()),
        ("extra_info", EXTRA_INFO_TYPE),
    ]
)


def sft_row(t: Triplet, split: str, index: int) -> dict[str, Any]:
    """One SFT row: the world-model chat plus the real next state as the assistant's answer."""
    response = target_response(t.ground_truth)
    return {
        "data_source": t.data_source,
        "messages": [*t.messages(), {"role": "assistant", "content": response}],
        "system": t.system,
        "prompt": t.user,
        "response": response,
        "extra_info": t.extra_info(split, index),
    }


def main(argv: list[str] | None = None) -> int:
    """The command (`python -m data_prep.build_sft_dataset`); its exit status (2 with one error line on bad input)."""
    return run_cli(
        lambda args: build_cli(args, __doc__, sft_row, SFT_SCHEMA, "world-model SFT triplets", train_subset_flag=True),
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
