"""Where the files of a batch are analysed: in this process, in own worker processes (one
file at a time each, so that a worker that dies is known with the file it held: replaced,
the file retried once, then listed), or on a Dask cluster."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sescreen.batch.jobs import analyse_file, job_key, task_key
from sescreen.errors import InputError

__all__ = ["check_scheduler", "execute"]


_SCHEMES = ("tcp", "tls", "inproc", "ucx", "ws", "wss")


def check_scheduler(address: str) -> None:
    import re

    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.+)$", address)
    if m is None and re.match(r"^[A-Za-z0-9_.-]+:\d+$", address) is None:
        raise InputError(f"--scheduler {address!r}: write a Dask scheduler address, e.g. "
                         "tcp://host:8786")
    if m is not None and m.group(1).lower() not in _SCHEMES:
        raise InputError(f"--scheduler {address!r}: unknown scheme {m.group(1)!r}; use one "
                         f"of {', '.join(s + '://' for s in _SCHEMES)}")


def execute(jobs: dict[str, dict[str, Any]], workers: int | None, scheduler):
    """Yield result rows as files finish (``jobs``: resume key -> job of
    :mod:`sescreen.batch.jobs`)."""
    if not jobs:
        return
    if scheduler is not None:
        yield from _execute_dask(jobs, scheduler)
        return
    workers = workers or os.cpu_count() or 1
    if workers <= 1:
        for job in jobs.values():
            yield analyse_file(job)
        return
    yield from _execute_pool(jobs, min(workers, len(jobs)))


# -- worker processes ----------------------------------------------------------------------
def _die_with_parent(parent_pid: int) -> None:
    """In a worker: exit when the main process is gone (SIGKILL included)."""
    import signal
    import threading
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    try:  # Linux: the kernel kills us when the parent dies
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch():  # everywhere else (and as a backstop): poll
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _worker_main(conn, parent_pid: int) -> None:
    """A worker: analyse the jobs sent over ``conn`` until told to stop (``None``)."""
    _die_with_parent(parent_pid)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        conn.send(analyse_file(task))


def _lost_row(job: dict[str, Any], code: int | None) -> dict[str, Any]:
    p = Path(job["file"])
    how = (f"killed by signal {-code}" if code is not None and code < 0
           else f"exit code {code}")
    row = {"file": str(p), "key": task_key(job), "options": job_key(job),
           "material": job.get("material"), "segment": job.get("segment"),
           "status": "error", "warnings": "",
           "error": f"{p}: the worker process analysing this file died twice ({how}; killed, "
                    "or out of memory): run it alone (sescreen dcpol FILE) to see why"}
    try:
        st = p.stat()
        row.update(size_bytes=st.st_size, mtime_ns=st.st_mtime_ns)
    except OSError:
        pass
    return row


def _execute_pool(jobs: dict[str, dict[str, Any]], n_workers: int):
    """Own worker processes, one file at a time each, so that a worker that dies is known
    with the file it held: the worker is replaced and the file retried once, then listed."""
    import multiprocessing as mp
    from collections import deque
    from multiprocessing.connection import wait

    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else "spawn")
    queue = deque((p, 1) for p in jobs)
    busy: dict[Any, tuple[Any, str, int]] = {}  # conn -> (process, key, attempt)
    idle: list[tuple[Any, Any]] = []
    parent = os.getpid()

    def start():
        here, there = ctx.Pipe()
        proc = ctx.Process(target=_worker_main, args=(there, parent), daemon=True)
        proc.start()
        there.close()
        return here, proc

    def give(conn, proc):
        path, attempt = queue.popleft()
        try:
            conn.send(jobs[path])
        except (BrokenPipeError, OSError):
            queue.appendleft((path, attempt))
            proc.kill()
            proc.join()
            conn.close()
            return False
        busy[conn] = (proc, path, attempt)
        return True

    def stop(conn, proc):
        try:
            conn.send(None)
        except OSError:
            pass
        conn.close()
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join()

    try:
        for _ in range(n_workers):
            idle.append(start())
        while queue or busy:
            while queue and idle:
                conn, proc = idle.pop()
                if not give(conn, proc):
                    idle.append(start())
            if not busy:
                continue
            sentinels = {proc.sentinel: conn for conn, (proc, _, _) in busy.items()}
            ready = wait(list(busy) + list(sentinels))
            handled = set()
            for obj in ready:
                conn = sentinels.get(obj, obj)
                if conn in handled or conn not in busy:
                    continue
                handled.add(conn)
                proc, path, attempt = busy.pop(conn)
                row = None
                try:
                    if conn.poll():
                        row = conn.recv()
                except (EOFError, OSError):
                    row = None
                if row is not None:
                    idle.append((conn, proc))
                    yield row
                    continue
                # the worker died holding this file
                proc.join(timeout=5)
                conn.close()
                if attempt == 1:
                    queue.appendleft((path, 2))
                else:
                    yield _lost_row(jobs[path], proc.exitcode)
                if queue:
                    idle.append(start())
    finally:
        for conn, (proc, _, _) in list(busy.items()):
            proc.kill()
            proc.join()
            conn.close()
        for conn, proc in idle:
            stop(conn, proc)


def _execute_dask(jobs, scheduler):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("--scheduler needs dask.distributed: pip install 'sescreen[dask]'") \
            from None
    try:
        client = scheduler if isinstance(scheduler, Client) else Client(scheduler, timeout=30)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"--scheduler {scheduler!r}: cannot reach the Dask scheduler "
                         f"({' '.join(str(exc).split())[:200]}): check the address and that "
                         "it runs") from None
    try:
        paths = list(jobs)
        futures = client.map(analyse_file, [jobs[p] for p in paths], pure=False)
        index = {f.key: p for f, p in zip(futures, paths, strict=True)}
        for fut in as_completed(futures):
            try:
                yield fut.result()
            except Exception as exc:  # a lost worker, a cancelled task
                yield _dask_lost(jobs[index[fut.key]], exc)
    finally:
        if client is not scheduler:
            client.close()


def _dask_lost(job, exc):
    row = _lost_row(job, None)
    row["error"] = (f"{job['file']}: the Dask task failed ({type(exc).__name__}: "
                    f"{' '.join(str(exc).split())[:200]})")
    return row
