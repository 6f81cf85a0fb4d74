"""``fit-many --backend ray``: one Ray task per video (or per pack) on a Ray cluster.

Ray schedules the tasks by their resource requests (``--cpus-per-fit``, ``--gpus-per-fit``) and reruns a
task whose worker died (``max_retries``). A task does exactly what a local worker does: it skips a finished
video, locks it (``OUT/<name>/.lock`` on the shared ``--out``), resumes it from its newest ``last.ckpt`` and
writes ``done.json``/``failed.json``; so a retried task continues the fit its dead worker left, and the
results table and exit status are the local backend's. Every node needs inrzoo installed and ``--out`` (and
the videos) at the same paths. Ray is an optional extra, imported only here.

A Ray instance this command starts itself (no cluster to join) is started lean, so that a local run costs
what the local pool costs: no dashboard modules, and its workers at this process's scheduling priority, as the
pool's fits are (Ray's default nices workers, and the fits they start, by +15: on a shared machine every fit
then yields to every other process). A cluster that is joined keeps its own settings.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from inrzoo.errors import InrzooError
from inrzoo.fleet.manifest import ManifestEntry
from inrzoo.fleet.results import DONE_FILE, VideoOutcome
from inrzoo.fleet.worker import claim, run_one, run_pack

RAY_MISSING = "--backend ray needs Ray: pip install 'inrzoo[ray]' (on every node of the cluster)"


@dataclass(frozen=True)
class RayOptions:
    """address: None (``RAY_ADDRESS``, else a new local instance), ``auto`` (the cluster this machine is in),
    ``HOST:PORT`` or ``ray://HOST:PORT``; resources are per task (a task fits one video or one pack)."""

    address: str | None = None
    cpus_per_fit: float = 1.0
    gpus_per_fit: float = 0.0
    max_retries: int = 3


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise InrzooError(RAY_MISSING) from None
    return ray


def check_reachable(address: str | None) -> None:
    """One line, at once, for an address nothing answers at (Ray itself retries for minutes)."""
    if address in (None, "auto", "local"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise InrzooError(f"--address {address}: expected auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as err:
        raise InrzooError(
            f"--address {address}: nothing answers at {host}:{port} ({err.strerror or err}); "
            "start the cluster (ray start --head) or give its address"
        ) from None


def starts_local_instance(address: str | None) -> bool:
    """Whether ``ray.init(address=address)`` starts a new Ray instance rather than joining one: Ray's own
    decision (``RAY_ADDRESS``, or a cluster that ``ray start`` left on this machine, is joined), asked of it."""
    if address not in (None, "auto", "local"):
        return False
    try:
        from ray._private.services import canonicalize_bootstrap_address

        return canonicalize_bootstrap_address(address) is None
    except Exception:  # noqa: BLE001 - a Ray without this helper, or "auto" with nothing to join: ray.init says
        return False


def init_options(address: str | None) -> dict[str, Any]:
    """``ray.init``'s keyword arguments; a new local instance gets no dashboard modules and workers that keep
    this process's priority (``worker_niceness`` is what Ray adds to the niceness they inherit)."""
    options: dict[str, Any] = {"address": address, "log_to_driver": False}
    if starts_local_instance(address):
        options |= {"include_dashboard": False, "_system_config": {"worker_niceness": 0}}
    return options


@contextmanager
def connected(options: RayOptions) -> Iterator[ModuleType]:
    """Ray, joined to the cluster (left at the end); a cluster this process already joined is used as it is."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    check_reachable(options.address)
    try:
        ray.init(**init_options(options.address))
    except ConnectionError as err:
        raise InrzooError(f"--address {options.address}: {str(err).splitlines()[0]}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def fit_unit(
    entries: list[ManifestEntry], config: str, out: str, extra: list[str], pack: int | None, threads: int
) -> tuple[list[VideoOutcome], str | None]:
    """A task: fit one video (``pack`` None) or one pack, as a local worker would; outcomes and a user error."""
    out_dir = Path(out)
    env = dict(os.environ) | {"OMP_NUM_THREADS": str(threads)}
    if pack is None:
        return [run_one(entries[0], config, out_dir, extra, env, wait=True)], None
    outcomes: list[VideoOutcome | None] = [None] * len(entries)
    locks = []
    for i, entry in enumerate(entries):
        got = claim(entry, out_dir, wait=True)
        if isinstance(got, VideoOutcome):
            outcomes[i] = got
        else:
            locks.append((i, got))
    error = None
    if locks:
        members, held = [entries[i] for i, _ in locks], [lock for _, lock in locks]
        fitted, error = run_pack(members, held, config, out_dir, extra, env)
        for (i, _), outcome in zip(locks, fitted, strict=True):
            outcomes[i] = outcome
    return [o for o in outcomes if o is not None], error


def fit_on_ray(
    entries: list[ManifestEntry], config: str, out: Path, extra: list[str], pack: int | None, options: RayOptions
) -> tuple[list[VideoOutcome], str | None]:
    """Every video not done, one task per video or per pack; the outcomes in manifest order, and a user error."""
    outcomes: dict[str, VideoOutcome] = {}
    todo = []
    for entry in entries:
        done = out / entry.name / DONE_FILE
        if done.is_file():
            outcomes[entry.name] = claim(entry, out, wait=False)  # the "skipped" record
        else:
            todo.append(entry)
    size = pack or 1
    units = [todo[k : k + size] for k in range(0, len(todo), size)]
    user_errors: list[str] = []
    with connected(options) as ray:
        task = ray.remote(fit_unit).options(
            num_cpus=options.cpus_per_fit, num_gpus=options.gpus_per_fit, max_retries=options.max_retries
        )
        threads = max(1, int(options.cpus_per_fit))
        refs = [task.remote(unit, config, str(out), extra, pack, threads) for unit in units]
        for unit, ref in zip(units, refs, strict=True):
            try:
                results, error = ray.get(ref)
            except Exception as err:  # noqa: BLE001 - the task failed on every try: its videos failed, not the run
                reason = f"the Ray task failed {options.max_retries + 1} times: {str(err).splitlines()[0][:200]}"
                results, error = [VideoOutcome(e.name, e.video, "failed", error=reason) for e in unit], None
            user_errors += [error] if error else []
            outcomes.update((o.name, o) for o in results)
    return [outcomes[e.name] for e in entries], (user_errors[0] if user_errors else None)
