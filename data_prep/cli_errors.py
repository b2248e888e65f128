"""One error convention for every command: `error: <what>, <where>, <what to do>` on stderr, exit status 2.

A command raises `UsageError(what, where=..., fix=...)` (or one of the errors it already knows) and its entry
point wraps `main` in `run_cli`: known errors print one line and exit 2; anything else prints one line too,
naming the exception, and the traceback only with `--debug` on the command line or `RWML_DEBUG=1` in the
environment. Ctrl-C exits 130 without a traceback.

    def main(argv=None) -> int: ...
    if __name__ == "__main__":
        sys.exit(run_cli(main))
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
DEBUG_ENV = "RWML_DEBUG"
DEBUG_FLAG = "--debug"


class UsageError(Exception):
    """A command cannot do what it was asked: what went wrong, where (file:line, flag, endpoint), what to do."""

    def __init__(self, what: str, where: str | None = None, fix: str | None = None) -> None:
        self.what, self.where, self.fix = what, where, fix
        super().__init__(error_line(what, where, fix, prefix=False))


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser with the convention's one-line errors: `error: <what>, <prog>, see <prog> --help`."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(error_line(message, self.prog, f"see {self.prog} --help"), file=sys.stderr)
        sys.exit(EXIT_ERROR)


def error_line(what: str, where: str | None = None, fix: str | None = None, *, prefix: bool = True) -> str:
    """`error: <what>, <where>, <what to do>`, leaving out the parts that are not known; one line."""
    parts = [p.strip().rstrip(".") for p in (what, where, fix) if p and p.strip()]
    text = ", ".join(parts).replace("\n", " ")
    return f"error: {text}" if prefix else text


def debug_requested(argv: Sequence[str] | None = None) -> bool:
    """True when the traceback was asked for: `--debug` among the arguments or RWML_DEBUG set (not 0/empty)."""
    args = sys.argv[1:] if argv is None else argv
    return DEBUG_FLAG in args or os.environ.get(DEBUG_ENV, "").strip() not in ("", "0", "false", "no")


def print_error(err: BaseException | str, *, debug: bool = False) -> None:
    """Print `err` as the one error line on stderr (its traceback first when `debug`)."""
    if debug and isinstance(err, BaseException):
        traceback.print_exception(err, file=sys.stderr)
    if isinstance(err, UsageError):
        line = error_line(err.what, err.where, err.fix)
    elif isinstance(err, str):
        line = err if err.startswith("error: ") else f"error: {err}"
    else:
        message = str(err).strip() or type(err).__name__
        line = message if message.startswith("error: ") else f"error: {message}"
    print(line.splitlines()[0] if line else "error", file=sys.stderr)


def run_cli(
    main: Callable[[list[str] | None], int | None],
    argv: Sequence[str] | None = None,
    *,
    known: tuple[type[BaseException], ...] = (),
) -> int:
    """Run a command's `main`, turning every error into the one-line convention and exit status 2.

    `known` are the command's own error types whose message already says what, where and what to do; any
    other exception is unexpected and its line names its type and how to get the traceback.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(args)
    args = [a for a in args if a != DEBUG_FLAG]
    try:
        rc = main(args)
    except KeyboardInterrupt:
        print("error: interrupted, rerun the same command to resume where it stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit:
        raise
    except (UsageError, *known) as err:
        print_error(err, debug=debug)
        return EXIT_ERROR
    except Exception as err:  # noqa: BLE001 - the convention is one line, whatever failed
        if debug:
            traceback.print_exception(err, file=sys.stderr)
        what = f"unexpected {type(err).__name__}: {str(err).strip() or 'no message'}".splitlines()[0]
        hint = "rerun with --debug (or RWML_DEBUG=1) for the traceback" if not debug else "traceback above"
        print(error_line(what, None, hint), file=sys.stderr)
        return EXIT_ERROR
    return int(rc or 0)
