"""Where a local Ray run's extra seconds go (issue 17): one small ``fit_many``-like run on a Ray instance this
script starts, with each task's timestamps and the CPU seconds of every process Ray started.

For each mode (``lean``: :func:`inrzoo.fleet.ray_backend.init_options`, what ``--backend ray`` starts now;
``plain``: ``ray.init`` with only ``log_to_driver=False``, what it started before), the script starts Ray
with 2 CPUs, sends one task per video, each running the library's own task (:func:`fit_unit`), and records:
``ray.init`` and ``ray.shutdown`` seconds; per task, the seconds from submission to the task's first line
(a worker's start-up and the unpickling of its arguments), the fit subprocess's own seconds and the end;
the task's niceness and ``OMP_NUM_THREADS``; and the CPU seconds each Ray process (GCS, raylet, agents,
workers) used while the tasks ran, so a worker that polls while its fit runs would show.

    flock -x /work/cpu.lock .venv/bin/python benchmarks/ray_task_timeline.py \\
        --out benchmarks/results/ray_task_timeline_cpu.json

The same run on older code (``--modes plain``, with ``PYTHONPATH`` at a checkout of it) shows what a task's
start cost while its worker imported torch to unpickle its arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from packing import REPO, short_fit_args, write_manifest

from inrzoo.bench.environment import provenance
from inrzoo.io.files import claim_output

MODES = ("lean", "plain")


def process_table() -> dict[int, tuple[int, float, str]]:
    """Every process: its parent, CPU seconds (user + system) and command line (first 80 characters)."""
    tick = os.sysconf("SC_CLK_TCK")
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
            command = Path(f"/proc/{name}/cmdline").read_text().replace("\0", " ").strip()
        except OSError:  # it ended while we looked
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # from the state on: the name may hold spaces
        table[int(name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, command[:80])
    return table


def descendants(root: int, table: dict[int, tuple[int, float, str]]) -> list[int]:
    """The processes below ``root`` in ``table``, children before grandchildren."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, frontier = [], [root]
    while frontier:
        below = [child for pid in frontier for child in children.get(pid, [])]
        found += below
        frontier = below
    return found


def timed_task(entries: list[Any], config: str, out: str, extra: list[str], submitted: float) -> dict[str, Any]:
    """The library's task, with the wall-clock times of its first line and its end."""
    started = time.time()
    from inrzoo.fleet.ray_backend import fit_unit

    outcomes, _ = fit_unit(entries, config, out, extra, None, 1)
    return {"seconds_to_start": started - submitted, "fit_seconds": outcomes[0].seconds, "ended": time.time(),
            "status": outcomes[0].status, "niceness": os.getpriority(os.PRIO_PROCESS, 0),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}  # fmt: skip


def run_mode(mode: str, manifest: Path, out: Path, epochs: int) -> dict[str, Any]:
    """One Ray instance started as ``mode`` says, one task per video of ``manifest``, then stopped."""
    import ray

    from inrzoo.fleet.manifest import read_manifest

    options = {"address": "local", "log_to_driver": False}
    if mode == "lean":
        from inrzoo.fleet.ray_backend import init_options

        options = init_options("local")
    start = time.perf_counter()
    ray.init(num_cpus=2, **options)
    record: dict[str, Any] = {"mode": mode, "init_seconds": time.perf_counter() - start}
    before = process_table()
    cpu_before = {pid: before[pid][1] for pid in descendants(os.getpid(), before)}
    task = ray.remote(timed_task).options(num_cpus=1, max_retries=0)
    clock = time.perf_counter()
    config = str(REPO / "configs" / "quickstart.yaml")
    refs = [task.remote([e], config, str(out), short_fit_args(epochs), time.time()) for e in read_manifest(manifest)]
    record["tasks"] = ray.get(refs)
    record["run_seconds"] = time.perf_counter() - clock
    after = process_table()
    record["cpu_seconds_while_running"] = sorted(
        (
            [round(after[pid][1] - cpu_before.get(pid, 0.0), 2), after[pid][2]]
            for pid in descendants(os.getpid(), after)
        ),
        reverse=True,
    )  # the fits have ended: their CPU is not in here, only Ray's processes' and the workers' own
    start = time.perf_counter()
    ray.shutdown()
    record["shutdown_seconds"] = time.perf_counter() - start
    first = min(t["ended"] - t["fit_seconds"] for t in record["tasks"])
    for t in record["tasks"]:
        t["ended"] -= first  # seconds after the first fit began
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "ray_task_timeline_cpu.json")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--modes", default=",".join(MODES), help="plain alone runs on code older than init_options")
    args = parser.parse_args(argv)
    modes = args.modes.split(",")
    if not modes or set(modes) - set(MODES):
        parser.error(f"--modes: a comma-separated subset of {', '.join(MODES)}, got {args.modes!r}")
    out = claim_output(args.out, args.overwrite)
    os.environ["OMP_NUM_THREADS"] = "1"
    work = Path(tempfile.mkdtemp(prefix="inrzoo-ray-timeline-"))
    manifest = write_manifest(work, args.videos, 24, 72, 128)
    from inrzoo.data import VideoDataModule

    for line in manifest.read_text().split():  # the frame cache first, as ray_overhead.py does
        VideoDataModule(path=str(work / line), resize=None)
    runs = [run_mode(mode, manifest, work / mode, args.epochs) for mode in modes]
    report = {"name": "ray_task_timeline", "videos": args.videos, "epochs": args.epochs, "clips": [24, 72, 128],
              "runs": runs, "load_1min_at_end": os.getloadavg()[0], **provenance()}  # fmt: skip
    out.write_text(json.dumps(report, indent=2) + "\n")
    for run in runs:
        starts = [round(t["seconds_to_start"], 2) for t in run["tasks"]]
        print(f"{run['mode']}: init {run['init_seconds']:.2f} s, submit->start {starts}, niceness "
              f"{sorted({t['niceness'] for t in run['tasks']})}, shutdown {run['shutdown_seconds']:.2f} s")  # fmt: skip
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
