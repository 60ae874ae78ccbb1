"""Lints files across processes; results come back in input order.

Design, measured in bench/README.md:
- Linux forks its workers: they inherit the loaded rules and modules, so a
  worker costs a few milliseconds, not a fresh interpreter start-up.
- Files go out in chunks: one message per chunk amortises pickling, and
  several chunks per worker keep every core busy until the end (a Compose
  file with 30 services costs ten times a small script).
- Settings reach each worker once, through the pool initializer: the few
  distinct Settings of a run (one per config file that applies) go as a
  table, and each file in a chunk carries its index into it.
- Nothing a worker does can lose the other files' findings: an exception on
  one file becomes a CAP001 finding for that file, and when a worker dies
  (killed, out of memory, a crash in native code) the unfinished files are
  linted again one per task in a fresh worker, with a warning on stderr, so
  the file that kills its process gets a CAP001 finding and no other file is
  lost. They are not re-run in this process: a crash would take it down too.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from caplint.discover import Found
from caplint import engine
from caplint.engine import Settings, SettingsFor, merge_sorted, per_file, problem_findings
from caplint.model import Finding, Problem, Span

if TYPE_CHECKING:
    import multiprocessing.context
    from concurrent.futures import Future, ProcessPoolExecutor

# multiprocessing and concurrent.futures are imported only when a pool is
# really started: most runs (one file on save, a pre-commit batch) lint in
# this process and should not pay for them.

# Chunk bounds: small enough that the last chunks finish together, large
# enough that the per-message cost (about 0.1 ms) stays under 1 % of a chunk.
MIN_CHUNK = 4
MAX_CHUNK = 32
CHUNKS_PER_WORKER = 8

_settings: tuple[Settings, ...] = ()

# A file to lint and the index of its Settings in the table the workers hold.
Task = tuple[Found, int]


def _init_worker(settings: tuple[Settings, ...]) -> None:
    global _settings
    _settings = settings


def _lint_chunk(chunk: list[Task]) -> list[list[Finding]]:
    return [engine.lint_file(f.path, f.kind, _settings[i]) for f, i in chunk]


def _tasks(found: Sequence[Found], settings_for: SettingsFor) -> tuple[list[Task], tuple[Settings, ...]]:
    """Each file with the index of its Settings, and the table of distinct ones
    (told apart by identity: the resolver hands out one object per config)."""
    table: list[Settings] = []
    index: dict[int, int] = {}
    tasks = []
    for f in found:
        s = settings_for(f.path)
        i = index.setdefault(id(s), len(table))
        if i == len(table):
            table.append(s)  # kept alive by the table, so its id is not reused
        tasks.append((f, i))
    return tasks, tuple(table)


def chunk_size(files: int, jobs: int) -> int:
    return max(MIN_CHUNK, min(MAX_CHUNK, files // (jobs * CHUNKS_PER_WORKER)))


def _context() -> multiprocessing.context.BaseContext | None:
    import multiprocessing

    # fork where it exists (Linux: workers start in milliseconds and share the
    # parent's loaded modules); elsewhere the platform default.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return None


# Below this many files a process pool costs more than it saves.
PARALLEL_MIN_FILES = 64


def lint_found(found: Sequence[Found], settings: Settings | SettingsFor, *, jobs: int = 1) -> list[Finding]:
    """Every finding of `found`, in the same order whatever `jobs` is: in
    worker processes when there are enough files to pay for them. `settings`
    is one Settings for all files or a function giving each file its own."""
    if jobs > 1 and len(found) >= max(PARALLEL_MIN_FILES, 2 * jobs):
        return merge_sorted(map_files(found, settings, jobs))
    return engine.lint_found(found, settings)


def map_files(found: Sequence[Found], settings: Settings | SettingsFor, jobs: int) -> list[list[Finding]]:
    """Each file's findings, in the order of `found`, whatever `jobs` is."""
    tasks, table = _tasks(found, per_file(settings))
    size = chunk_size(len(tasks), jobs)
    chunks = [tasks[i: i + size] for i in range(0, len(tasks), size)]
    from concurrent.futures.process import BrokenProcessPool

    results: list[list[list[Finding]] | None] = [None] * len(chunks)
    failure: BaseException | None = None
    try:
        with _pool(min(jobs, len(chunks)), table) as pool:
            futures: list[Future[list[list[Finding]]]] = [pool.submit(_lint_chunk, c) for c in chunks]
            for i, future in enumerate(futures):
                try:
                    results[i] = future.result()
                except Exception as err:  # noqa: BLE001 — a dead worker (BrokenProcessPool), an unpicklable result
                    failure = failure or err
    except (OSError, BrokenProcessPool) as err:  # no processes at all (limits, sandbox) or a broken shutdown
        failure = failure or err
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        redo = [f for i in missing for f in chunks[i]]
        sys.stderr.write(f"caplint: warning: a worker process failed ({type(failure).__name__}: {failure}); "
                         f"linting {len(redo)} file(s) again one by one\n")
        again = iter(_one_by_one(redo, table))
        for i in missing:
            results[i] = [next(again) for _ in chunks[i]]
    return [per_file for chunk in results if chunk is not None for per_file in chunk]


def _pool(workers: int, settings: tuple[Settings, ...]) -> ProcessPoolExecutor:
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, mp_context=_context(),
                               initializer=_init_worker, initargs=(settings,))


def _one_by_one(found: Sequence[Task], settings: tuple[Settings, ...]) -> list[list[Finding]]:
    """Each file alone in a worker process, so a file that kills its process
    (a crash in native code) is named and every other file is still linted.
    Without processes at all, the files are linted here."""
    from concurrent.futures.process import BrokenProcessPool

    out: list[list[Finding]] = []
    pool: ProcessPoolExecutor | None = None
    try:
        for task in found:
            if pool is None:
                pool = _pool(1, settings)
            try:
                out.append(pool.submit(_lint_chunk, [task]).result()[0])
            except BrokenProcessPool:
                pool.shutdown(wait=True)
                pool = None
                message = ("caplint's worker process died while linting this file (a crash in native code "
                           "or out of memory); please report it with the file attached")
                f, i = task
                out.append(_problem(f, settings[i], message))
    except OSError:
        out.extend(engine.lint_file(f.path, f.kind, settings[i]) for f, i in found[len(out):])
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return out


def _problem(found: Found, settings: Settings, message: str) -> list[Finding]:
    return problem_findings([Problem(Span.point(found.path, 1), message)], "", settings, found.path)
