"""Run one schedule command so that stopping the schedule stops everything the command started.

    python -m recipe.rwml.schedule.guard -- COMMAND [ARG ...]

The schedule starts each command through this guard, in a session of its own (the guard leads it). The guard starts
COMMAND in that session and waits; its exit status is COMMAND's. On SIGTERM, SIGINT or SIGHUP -- sent by the
schedule when it is stopped, or by the kernel when the schedule dies, even by `kill -9` (the guard asks for
SIGTERM on its parent's death, Linux `PR_SET_PDEATHSIG`) -- it sends SIGTERM to every process of the session
(COMMAND, torchrun's ranks, Ray's head and its workers, which take process groups of their own but keep the
session), waits up to `RWML_STOP_GRACE_S` seconds (default 20) for them to end, then SIGKILLs what is left, and
exits 128 + the signal. Stays light: no imports beyond the standard library.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

GRACE_ENV = "RWML_STOP_GRACE_S"
DEFAULT_GRACE_S = 20.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send `sig` to this process when its parent dies (Linux; elsewhere nothing)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, sig)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def session_processes(sid: int) -> list[int]:
    """The ids of the live processes of session `sid`, this one excepted (Linux /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) ": state ppid pgrp session ...
        if len(fields) > 3 and fields[0] != "Z" and int(fields[3]) == sid:
            pids.append(int(entry))
    return pids


def signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def stop_session(sid: int, grace_s: float, child: subprocess.Popen | None = None) -> None:
    """SIGTERM to every process of session `sid`, up to `grace_s` seconds for them to go, then SIGKILL."""
    signal_all(session_processes(sid), signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if child is not None:
            child.poll()  # reap it, so it does not linger as a zombie of this session
        if not session_processes(sid):
            return
        time.sleep(0.1)
    signal_all(session_processes(sid), signal.SIGKILL)
    if child is not None:
        child.wait()


def stop_guarded(guard: subprocess.Popen, grace_s: float) -> None:
    """Stop a command started under this guard in a session of its own (`guard` is the guard's process): SIGTERM to
    the guard, which stops its session within `grace_s`; then the session is swept from here -- at once with SIGKILL
    if the guard is stuck, else whatever is left."""
    if guard.poll() is None:
        try:
            guard.send_signal(signal.SIGTERM)
            guard.wait(timeout=grace_s + 10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    stop_session(guard.pid, 0 if guard.poll() is None else grace_s, guard)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: python -m recipe.rwml.schedule.guard -- COMMAND [ARG ...]", file=sys.stderr)
        return 2
    die_with_parent(signal.SIGTERM)
    if os.getppid() == 1:  # the schedule died before the request took effect
        return 143
    grace_s = float(os.environ.get(GRACE_ENV) or DEFAULT_GRACE_S)
    stopping: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        stopping.append(signum)

    for sig in STOP_SIGNALS:
        signal.signal(sig, on_signal)
    try:
        child = subprocess.Popen(argv)
    except OSError as exc:
        print(f"{argv[0]}: {exc.strerror}", file=sys.stderr)
        return 127
    while child.poll() is None and not stopping:
        try:
            child.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
    if stopping:
        stop_session(os.getsid(0), grace_s, child)
        return 128 + stopping[0]
    rc = child.returncode
    leftovers = session_processes(os.getsid(0))
    if leftovers:  # COMMAND ended, something it started did not (a daemon, an orphaned worker): not left running
        stop_session(os.getsid(0), grace_s)
    return 128 - rc if rc < 0 else rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
