"""The answer format of the world model, defined once for the prompt builder and the reward parser."""

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
STATE_OPEN, STATE_CLOSE = "<next_state>", "</next_state>"

FORMAT_INSTRUCTION = (
    f"First reason step by step about what the environment will do, inside {THINK_OPEN}...{THINK_CLOSE}. "
    f"Then write the exact next state the environment returns inside {STATE_OPEN}...{STATE_CLOSE}, "
    "and nothing after it."
)
