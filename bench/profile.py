"""`python -m bench.profile`: where the API and the consumer spend their time on tiny images.

Runs the tiny-image closed loop against resizeq while py-spy samples both processes, then
prints, per process, the share of samples in which each function was on the stack and in
which it was the one running (idle waits left out). Needs py-spy (`pip install py-spy`);
the benchmark itself does not.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import e2e, images
from bench.harness import Vhost

PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
RATE_HZ = 200


def summarise(raw_path: Path, top: int) -> dict[str, list[tuple[str, float]]]:
    """Functions by their share of the samples: on the stack at all, and running themselves."""
    inclusive: collections.Counter[str] = collections.Counter()
    running: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw_path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        total += count
        frames = [frame.split(" (")[0] for frame in stack.split(";")[1:]]
        inclusive.update(dict.fromkeys(frames, count))
        running[frames[-1] if frames else "?"] += count
    return {kind: [(name, count / max(total, 1)) for name, count in counter.most_common(top)]
            for kind, counter in (("on the stack", inclusive), ("running", running))}


def _spy(pid: int, output: Path) -> subprocess.Popen[bytes]:
    command = [PY_SPY, "record", "--nonblocking", "--format", "raw", "--rate", str(RATE_HZ),
               "--pid", str(pid), "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--jobs", type=int, default=1500)
    parser.add_argument("--top", type=int, default=25)
    arguments = parser.parse_args(argv)

    content = images.sample("tiny-jpeg").content
    vhost, workdir = Vhost(), Path(tempfile.mkdtemp(prefix="resizeq-profile-"))
    vhost.create()
    try:
        with e2e.resizeq_stack(vhost, workdir / "stack") as (target, _):
            e2e.run_load(target, content, 32, 8)
            spies = {name: _spy(target.pid(name), workdir / f"{name}.txt")
                     for name in ("api", "consumer")}
            result = e2e.run_load(target, content, arguments.jobs, 8)
            for spy in spies.values():
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=30)
        print(f"tiny images: {result.throughput_per_s:.0f} jobs/s, p50 {result.p50_ms:.0f} ms")
        for name in spies:
            for kind, shares in summarise(workdir / f"{name}.txt", arguments.top).items():
                print(f"\n## {name}: share of samples with the function {kind}\n")
                for function, share in shares:
                    print(f"{share:6.1%}  {function}")
    finally:
        vhost.delete()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
