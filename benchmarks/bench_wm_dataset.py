"""World-model dataset builder: triplets/s and peak RSS at 20k vs 200k triplets (synthetic ALFWorld-like episodes).

Each build runs in a fresh child process (`python -m data_prep.build_wm_dataset`), its peak RSS read from the
kernel's accounting for that child (os.wait4). Prints both runs and the 200k/20k ratios: throughput should hold
(ratio ~1) and memory stay flat (ratio ~1; only a 64-bit hash per triplet is kept, for de-duplication).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def write_synthetic_episodes(path: Path, n_triplets: int, steps_per_episode: int = 20, n_tasks: int = 200) -> None:
    """Episode JSONL in the collection layout with `n_triplets` distinct short ALFWorld-like steps."""
    n_episodes = -(-n_triplets // steps_per_episode)
    left = n_triplets
    with open(path, "w", encoding="utf-8") as f:
        for e in range(n_episodes):
            k = min(steps_per_episode, left)
            left -= k
            task_id = f"pick_and_place_simple-Book-None-Shelf-{e % n_tasks}/trial_synthetic"
            first = f"You are in room {e}. Your task is to: put a book in shelf."
            steps, obs = [], first
            for t in range(k):
                nxt = f"You arrive at shelf {t} in room {e}."
                steps.append(
                    {
                        "t": t,
                        "observation": obs,
                        "raw_output": "",
                        "action": f"go to shelf {t}",
                        "next_observation": nxt,
                        "reward": 0.0,
                        "done": t == k - 1,
                        "valid": True,
                        "state_kind": "observation",
                        "info": {"won": False},
                    }
                )
                obs = nxt
            episode = {
                "episode_id": f"alfworld/synthetic/{task_id}/{e}",
                "env": "alfworld",
                "split": "synthetic",
                "task_id": task_id,
                "episode_index": e,
                "policy": {"name": "synthetic"},
                "task": "Your task is to: put a book in shelf.",
                "initial_observation": first,
                "steps": steps,
                "success": False,
                "info": {},
            }
            f.write(json.dumps(episode) + "\n")


_CHILD = (
    "import sys, time\n"
    "from data_prep.build_wm_dataset import main\n"
    "t0 = time.perf_counter()\n"
    "rc = main(sys.argv[1:])\n"
    "print(f'BUILD_SECONDS {time.perf_counter() - t0}')\n"
    # VmHWM is this process's own peak: getrusage's ru_maxrss of a child keeps the high-water mark of the parent
    # it was forked from (a benchmark run after one that loaded torch reads that parent's size).
    "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:')][0].split()[1]\n"
    "print(f'PEAK_KIB {hwm}')\n"
    "sys.exit(rc)\n"
)


def run_build(inputs: list[Path], out_dir: Path, *extra: str) -> tuple[float, float]:
    """(build seconds without interpreter start-up, peak RSS in MB) of one build in a child process."""
    cmd = [sys.executable, "-c", _CHILD, "--input", *map(str, inputs), "--out-dir", str(out_dir), *extra]
    env = dict(os.environ, TQDM_DISABLE="1")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:  # files: a full pipe cannot block
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=err)
        _, status, _usage = os.wait4(proc.pid, 0)
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if code != 0:
        raise RuntimeError(f"build failed (exit {code}): {stderr[-2000:]}")
    seconds = float(stdout.rsplit("BUILD_SECONDS", 1)[1].split()[0])
    return seconds, int(stdout.rsplit("PEAK_KIB", 1)[1].split()[0]) / 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        results = {}
        for n in (20_000, 200_000):
            src = d / f"episodes_{n}.jsonl"
            write_synthetic_episodes(src, n)
            seconds, peak = run_build([src], d / f"out_{n}")
            results[n] = (n / seconds, peak)
            print(f"{n:>7} triplets: {n / seconds:>9.0f} triplets/s   peak RSS {peak:6.0f} MB   ({seconds:.1f} s)")
    (r20, m20), (r200, m200) = results[20_000], results[200_000]
    print(f"throughput ratio 200k/20k: {r200 / r20:.2f}   peak RSS ratio 200k/20k: {m200 / m20:.2f}")


if __name__ == "__main__":
    main()
