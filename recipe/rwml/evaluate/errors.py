"""The evaluation's own error: the command prints it as `error: ...` and exits with status 2."""


class EvalError(RuntimeError):
    """The evaluation cannot run as asked (no split found, output of another run, bad parquet, ...)."""
