"""A model server a stage calls (vLLM, or the CPU OpenAI server), in its own process group, logged to a file.

`ModelServer.start` refuses a port something already answers on, then waits until GET <url>/models answers; `stop`
ends the server's whole session (vLLM starts workers of its own): the server runs under `guard.py`, which also
stops it when the schedule dies.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from recipe.rwml.schedule.guard import GRACE_ENV, stop_guarded
from recipe.rwml.schedule.preflight import answers
from recipe.rwml.schedule.settings import ScheduleError
from recipe.rwml.schedule.steps import Serve

POLL_S = 1
STOP_GRACE_S = 60  # after SIGTERM, before SIGKILL to the server's session (unless RWML_STOP_GRACE_S says)


class ModelServer:
    def __init__(self, serve: Serve, url: str, log: Path, env: Mapping[str, str]) -> None:
        self.serve, self.url, self.log, self.env = serve, url, log, dict(env)
        self.env.setdefault(GRACE_ENV, str(STOP_GRACE_S))  # the guard's grace: vLLM takes its time to stop
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: int) -> None:
        if answers(self.url):
            raise ScheduleError(
                f"something already answers on {self.url} (an earlier server?): stop it or set VLLM_PORT"
            )
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            try:  # stdin as for a shell's background job; under the guard, in a session of its own, so stop() (or
                # the schedule's death, even by kill -9) reaches its workers
                self.process = subprocess.Popen(
                    [sys.executable, str(Path(__file__).with_name("guard.py")), "--", *self.serve.argv],
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                log.write(f"{self.serve.argv[0]}: {exc.strerror}\n".encode())
        if self.process is None:
            raise ScheduleError(f"server for {self.serve.model} did not start: {self.log.read_text().strip()}")
        print(f"  server pid {self.process.pid}, log {self.log}; waiting for {self.url}/models")
        started = time.monotonic()
        while not answers(self.url):
            if self.process.poll() is not None:
                lines = self.log.read_text(errors="replace").splitlines()[-30:]
                print("\n".join(lines), file=sys.stderr)
                raise ScheduleError(f"server for {self.serve.model} exited during start-up (log: {self.log})")
            if time.monotonic() - started >= timeout_s:
                raise ScheduleError(f"server for {self.serve.model} not ready after {timeout_s}s (log: {self.log})")
            time.sleep(POLL_S)

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        stop_guarded(process, float(self.env[GRACE_ENV]))
