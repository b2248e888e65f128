"""Reading the LLM judge's answer (reward mode `judge`): one verdict of 0 or 1, or none.

`parse_verdict` reads one verdict: the JSON object that ends the answer (after any `<think>` block; a `<json>` /
code-fence wrapper around it allowed), standing on its own line, with "score" 0 or 1 (0.0 / 1.0); the answer may
hold no other `score: N` anywhere. Two verdicts, text after the verdict, a verdict quoted or inline, another
score, or an answer that repeats a data block of the prompt (it holds a delimiter) read as no verdict.
A prediction that writes a score itself (`writes_a_score`: `"score": 1` in any spelling) never gets a 1: a judge's
1 may be the prediction's own, copied. Keys are matched on `judge_prompt.skeleton` text, so case, look-alike
letters and accents do not hide them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from reward_score.judge_prompt import normalize, skeleton

# `score` as a key given a value (`"score": 1`, `score=1.0`, `**Score**: 0`, `'score' : "1"`, ...), on `skeleton`
# text; the template's `"score": 0.0 or 1.0` is one too. A verdict must be the only one in the answer.
_SCORE_KEY = re.compile(r"""(?<![a-z])score[\s"'`\\*_]*[:=][\s"'`\\*_]*(?:[-+.\d]|true|false|one|zero|null|none)""")
_DELIMITER = re.compile(r"(?<![a-z])data-[0-9a-f]{16}(?![0-9a-f])")  # a block tag: the answer repeats data
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")  # `{"\u0073core": 1}` is a score key to JSON
_TRAILING_WRAPPER = re.compile(r"(?:\s*(?:</json>|```))+\s*$")
_LEADING_WRAPPERS = ("<json>", "```json", "```")
_BINARY = {"0": 0.0, "1": 1.0, "0.0": 0.0, "1.0": 1.0}


def _score_keys(text: str) -> int:
    """How many times `text` gives `score` a value, whatever its case, quoting, look-alikes or JSON escapes."""
    unescaped = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return len(_SCORE_KEY.findall(skeleton(unescaped)[0]))


def _without_comments(text: str) -> str:
    """JSON text without `# ...` comments outside strings (judges copy the template's `# no more than 200 words`)."""
    out: list[str] = []
    in_string = escaped = in_comment = False
    for c in text:
        if in_comment:
            in_comment = c != "\n"
            if in_comment:
                continue
        elif in_string:
            escaped, in_string = (not escaped and c == "\\"), (escaped or c != '"')
        elif c == '"':
            in_string = True
        elif c == "#":
            in_comment = True
            continue
        out.append(c)
    return "".join(out)


def _final_object(text: str) -> tuple[dict[str, Any], int] | None:
    """The JSON object that ends `text` and where it starts (the outermost, the first `{` whose rest loads)."""
    for start in (i for i, c in enumerate(text) if c == "{"):
        try:
            parsed = json.loads(_without_comments(text[start:]))
        except ValueError:
            continue
        return (parsed, start) if isinstance(parsed, dict) else None
    return None


def parse_verdict(answer: str | None) -> float | None:
    """The judge's 0/1 score, or None when its answer holds no single well-formed verdict.

    The verdict is the JSON object that ends the answer, after any `<think>` block, alone on its line but for a
    `<json>` / code-fence wrapper (the authors' output format), with "score" 0, 1, 0.0 or 1.0 (or those as
    strings); `# comments` copied from the template are allowed. None when the answer gives `score` a value
    anywhere else (two verdicts, a verdict in its analysis or its prose), when text follows the verdict, when the
    verdict is inline, quoted or in a `>` quote, and when the answer repeats one of the prompt's data blocks.
    """
    text = normalize(answer or "")
    if _DELIMITER.search(skeleton(text)[0]):
        return None
    text = text.rsplit("</think>", 1)[-1]
    text = _TRAILING_WRAPPER.sub("", text).rstrip()
    if not text.endswith("}") or _score_keys(text) != 1:
        return None
    found = _final_object(text)
    if found is None:
        return None
    verdict, start = found
    before = text[text.rfind("\n", 0, start) + 1 : start].strip()
    if before and before not in _LEADING_WRAPPERS:
        return None
    raw = verdict.get("score")
    if isinstance(raw, str):
        return _BINARY.get(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    return (1.0 if raw == 1 else 0.0) if raw in (0, 1) else None  # never -0.0


def writes_a_score(predicted: str) -> bool:
    """Whether a prediction gives `score` a value itself: a judge's 1 for it may be the prediction's, copied."""
    return _score_keys(normalize(predicted)) > 0
