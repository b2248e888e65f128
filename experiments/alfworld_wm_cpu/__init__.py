"""RWML vs WM-SFT on held-out ALFWorld games with SmolLM2-135M-Instruct on CPU (run.py; the report is README.md)."""
