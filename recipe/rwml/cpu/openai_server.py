"""An OpenAI-compatible chat-completions server over the CPU rollout engine, for collection and evaluation on CPU.

Not for production (use vLLM there): it serves one local HF checkpoint with `BatchedGenerator`, the engine behind
the `hf` rollout backend, so `data_prep/collect_trajectories.py --policy openai` and `scripts/evaluate.py --policy
openai` can run against the model being trained on a machine without a GPU. Requests that arrive together are
batched into one forward pass.

    python -m recipe.rwml.cpu.openai_server --model DIR --served-model-name NAME [--port 8000]

Serves `GET /v1/models`, `GET /health` and `POST /v1/chat/completions` (no streaming, no tool calling, no
log-probs). Sampling: `max_tokens` / `max_completion_tokens` (default: what `--max-model-len` leaves; a larger
value is cut to that room, finishing with "length"), `temperature`, `top_p`, `top_k`, `seed` (choice i of `n` uses
`seed + i`), `n` (1..128; `n` x `max_tokens` at most `--max-request-tokens`) and `stop` (strings; the text is cut
before the first one found, after generation -- generation is not ended early). Unset `temperature` / `top_p` /
`top_k` default to the checkpoint's `generation_config.json`, as in vLLM, then to 1.0 / 1.0 / off. Each field is
checked for type and range (a finite temperature >= 0, 0 < top_p <= 1, integer top_k, seed, n and max_tokens) and
refused with an OpenAI-format 400; a request that still fails inside a batch fails alone (the batch's other
requests are decoded again without it); a client that disconnects has its rows dropped from the batch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import torch
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from recipe.rwml.cpu.generator import BatchedGenerator, SamplingSpec
from recipe.rwml.cpu.precision import DTYPE_ENV, DTYPES, THREADS_ENV, choose_precision, compute_threads

logger = logging.getLogger(__name__)

TOOLS_UNSUPPORTED = "tool calling is not supported by this CPU server; use vLLM (make smoke-vllm) for tau2"

# Request keys that change nothing when left at these values; anything else unknown is ignored, as OpenAI does.
_UNSUPPORTED_UNLESS = {
    "stream": (None, False),
    "logprobs": (None, False),
    "top_logprobs": (None, 0),
    "tools": (None, []),
    "tool_choice": (None, "none", "auto"),
    "functions": (None, []),
    "function_call": (None, "none", "auto"),
    "logit_bias": (None, {}),
    "response_format": (None, {"type": "text"}),
    "presence_penalty": (None, 0, 0.0),
    "frequency_penalty": (None, 0, 0.0),
    "repetition_penalty": (None, 1, 1.0),
    "min_p": (None, 0, 0.0),
}
_SAMPLING_DEFAULT_KEYS = ("temperature", "top_p", "top_k")
MAX_N = 128  # choices per request, as OpenAI's API
MAX_REQUEST_TOKENS = 65536  # n x max_tokens per request (default of --max-request-tokens)
DISCONNECT_POLL_S = 0.25


class APIError(Exception):
    """An error answered as OpenAI's error JSON: {"error": {"message", "type", "param", "code"}}."""

    def __init__(self, status: int, message: str, err_type: str = "BadRequestError", param: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.err_type = err_type
        self.param = param

    def response(self) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.err_type, "param": self.param, "code": self.status}}
        return JSONResponse(body, status_code=self.status)


def load_engine(
    model_dir: str | Path,
    *,
    max_batch_size: int = 16,
    max_model_len: int = 4096,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> tuple[Any, BatchedGenerator, dict[str, Any]]:
    """Tokenizer, the shared generator over a `dtype` copy of the checkpoint, and the checkpoint's sampling defaults."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # a local directory only: nothing is looked up on the Hub, whatever HF_HUB_OFFLINE says
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=dtype, local_files_only=True)
    eos = model.generation_config.eos_token_id
    eos_ids = [eos] if isinstance(eos, int) else list(eos or [])
    if tokenizer.eos_token_id is not None:
        eos_ids.append(tokenizer.eos_token_id)
    if not eos_ids:
        raise ValueError(f"{model_dir} names no EOS token (generation_config.json or the tokenizer)")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_ids[0]
    generator = BatchedGenerator(
        model, eos_ids, pad, max_batch_size=max_batch_size, max_model_len=max_model_len, seed=seed
    )
    defaults: dict[str, Any] = {}
    gen_config = Path(model_dir) / "generation_config.json"
    if gen_config.is_file():  # only what the file sets, as vLLM's `--generation-config auto`
        saved = json.loads(gen_config.read_text())
        defaults = {k: saved[k] for k in _SAMPLING_DEFAULT_KEYS if saved.get(k) is not None}
        if saved.get("do_sample") is False:
            defaults["temperature"] = 0.0
    return tokenizer, generator, defaults


def _message_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: text only
        parts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text":
                raise APIError(400, "only text content parts are supported", param="messages")
            parts.append(str(part.get("text", "")))
        return "".join(parts)
    raise APIError(
        400, f"message content must be a string or a list of text parts, got {type(content).__name__}", param="messages"
    )


def _cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def create_app(
    tokenizer: Any,
    generator: BatchedGenerator,
    served_model_name: str,
    *,
    max_model_len: int,
    sampling_defaults: dict[str, Any] | None = None,
    max_request_tokens: int = MAX_REQUEST_TOKENS,
) -> FastAPI:
    """The FastAPI app; every request shares `generator`, so concurrent requests are batched together."""
    app = FastAPI(title=f"CPU OpenAI-compatible server ({served_model_name})")
    defaults = dict(sampling_defaults or {})
    created = int(time.time())

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return APIError(400, f"invalid request: {exc.errors()}").response()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        card = {
            "id": served_model_name,
            "object": "model",
            "created": created,
            "owned_by": "rwml-cpu",
            "max_model_len": max_model_len,
        }
        return {"object": "list", "data": [card]}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError as err:
            raise APIError(400, f"the request body is not JSON: {err}") from err
        if not isinstance(body, dict):
            raise APIError(400, "the request body must be a JSON object")
        work = asyncio.ensure_future(_complete(body))
        while not work.done():  # a client that goes away cancels its rows, so they leave the batch
            await asyncio.wait({work}, timeout=DISCONNECT_POLL_S)
            if not work.done() and await request.is_disconnected():
                work.cancel()
                logger.info("client went away; its request was cancelled")
                return Response(status_code=499)
        return JSONResponse(work.result())

    async def _complete(body: dict[str, Any]) -> dict[str, Any]:
        model = body.get("model")
        if model != served_model_name:
            raise APIError(
                404,
                f"The model `{model}` does not exist; this server serves `{served_model_name}`.",
                err_type="NotFoundError",
                param="model",
            )
        if body.get("tools") or body.get("functions"):
            raise APIError(400, TOOLS_UNSUPPORTED, param="tools")
        for key, allowed in _UNSUPPORTED_UNLESS.items():
            if key in body and body[key] not in allowed:
                raise APIError(400, f"`{key}={body[key]!r}` is not supported by this CPU server", param=key)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise APIError(400, "`messages` must be a non-empty list", param="messages")
        chat = []
        for m in messages:
            if not isinstance(m, dict) or not isinstance(m.get("role"), str):
                raise APIError(400, "each message needs a string `role`", param="messages")
            chat.append({"role": m["role"], "content": _message_text(m.get("content"))})
        try:
            prompt_ids = list(
                tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=True, return_dict=False)
            )
        except Exception as err:  # noqa: BLE001 - a template error is the request's fault
            raise APIError(400, f"the chat template failed on these messages: {err}", param="messages") from err
        if len(prompt_ids) >= max_model_len:
            raise APIError(
                400,
                f"the prompt has {len(prompt_ids)} tokens, which leaves no room under max-model-len {max_model_len}",
                param="messages",
            )

        n = body.get("n", 1)
        n = 1 if n is None else n
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_N:
            raise APIError(400, f"`n` must be an integer from 1 to {MAX_N}, got {n!r}", param="n")
        stop = body.get("stop") or []
        stops = [stop] if isinstance(stop, str) else stop
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise APIError(400, "`stop` must be a string or a list of strings", param="stop")
        max_tokens = body.get("max_completion_tokens")
        max_tokens = body.get("max_tokens") if max_tokens is None else max_tokens
        if max_tokens is not None and (
            isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
        ):
            raise APIError(400, f"`max_tokens` must be a positive integer, got {max_tokens!r}", param="max_tokens")
        room = max_model_len - len(prompt_ids)
        per_choice = min(max_tokens or room, room)  # what a choice may generate at most
        if n * per_choice > max_request_tokens:
            raise APIError(
                400,
                f"n x max_tokens = {n} x {per_choice} is over this server's "
                f"{max_request_tokens} tokens per request (--max-request-tokens); ask for fewer",
                param="n",
            )
        params: dict[str, Any] = {"max_tokens": max_tokens}
        for key in _SAMPLING_DEFAULT_KEYS:
            value = body.get(key)
            params[key] = defaults.get(key) if value is None else value
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise APIError(400, f"`seed` must be an integer, got {seed!r}", param="seed")
        specs = []
        for i in range(n):
            try:
                spec = SamplingSpec.from_params(
                    {**params, "seed": None if seed is None else int(seed) + i}, max_model_len - len(prompt_ids)
                )
            except (TypeError, ValueError) as err:
                raise APIError(400, f"invalid sampling settings: {err}", param="sampling") from err
            specs.append(spec)
        try:
            outs = await asyncio.gather(*(generator.generate(prompt_ids, spec) for spec in specs))
        except ValueError as err:
            raise APIError(400, str(err)) from err

        choices, completion_tokens = [], 0
        for i, out in enumerate(outs):
            text = tokenizer.decode(out.token_ids, skip_special_tokens=True)
            text, stopped = _cut_at_stop(text, stops)
            completion_tokens += len(out.token_ids)
            finish = "stop" if stopped or out.finish_reason == "stop" else "length"
            choices.append(
                {
                    "index": i,
                    "message": {"role": "assistant", "content": text},
                    "logprobs": None,
                    "finish_reason": finish,
                }
            )
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": served_model_name,
            "choices": choices,
            "usage": {
                "prompt_tokens": len(prompt_ids),
                "completion_tokens": completion_tokens,
                "total_tokens": len(prompt_ids) + completion_tokens,
            },
        }

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a local HF checkpoint directory (tokenizer + model)")
    parser.add_argument("--served-model-name", default=None, help="the name clients ask for (default: --model)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-batch-size", type=int, default=16, help="requests decoded together at most")
    parser.add_argument("--max-model-len", type=int, default=4096, help="prompt + completion tokens at most")
    parser.add_argument("--seed", type=int, default=0, help="seeds requests that send no seed")
    parser.add_argument(
        "--max-request-tokens",
        type=int,
        default=MAX_REQUEST_TOKENS,
        help="n x max_tokens one request may ask for at most (larger: a 400)",
    )
    threads_help = f"torch CPU threads (default: ${THREADS_ENV}, else all cores)"
    parser.add_argument("--threads", type=int, default=None, help=threads_help)
    parser.add_argument(
        "--dtype",
        choices=DTYPES,
        default=None,
        help=f"compute dtype (default: ${DTYPE_ENV}, else auto: bf16 where the CPU has native bf16, else fp32)",
    )
    args = parser.parse_args(argv)

    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(max(1, args.threads or compute_threads()))
    precision = choose_precision(args.dtype)
    name = args.served_model_name or args.model
    tokenizer, generator, defaults = load_engine(
        args.model,
        max_batch_size=args.max_batch_size,
        max_model_len=args.max_model_len,
        seed=args.seed,
        dtype=precision.torch_dtype,
    )
    app = create_app(
        tokenizer,
        generator,
        name,
        max_model_len=args.max_model_len,
        sampling_defaults=defaults,
        max_request_tokens=args.max_request_tokens,
    )
    print(
        f"serving {name!r} ({args.model}) at http://{args.host}:{args.port}/v1 "
        f"(max batch {args.max_batch_size}, max-model-len {args.max_model_len}, {torch.get_num_threads()} threads, "
        f"{precision.dtype}: {precision.reason}, "
        f"sampling defaults {defaults or 'none'})",
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
