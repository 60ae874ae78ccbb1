"""Lints files across processes; results come back in input order.

Design, measured in bench/README.md:
- Linux forks its workers: they inherit the loaded rules and modules, so a
  worker costs a few milliseconds, not a fresh interpreter start-up.
- Files go out in chunks: one message per chunk amortises pickling, and
  several chunks per worker keep every core busy until the end (a Compose
  file with 30 services costs ten times a small script).
- Settings reach each worker once, through the pool initializer.
- Nothing a worker does can lose the other files' findings: an exception on
  one file becomes a CAP001 finding for that file, and a worker that dies
  (killed, out of memory, a crash in native code) has its unfinished chunks
  linted again in this process, with a warning on stderr.
"""
from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from caplint.discover import Found
from caplint.model import Finding, Problem, Span

if TYPE_CHECKING:
    from caplint.engine import Settings

# Chunk bounds: small enough that the last chunks finish together, large
# enough that the per-message cost (about 0.1 ms) stays under 1 % of a chunk.
MIN_CHUNK = 4
MAX_CHUNK = 32
CHUNKS_PER_WORKER = 8

_settings: Settings | None = None


def lint_guarded(found: Found, settings: Settings) -> list[Finding]:
    """`engine.lint_file`, except that a bug in caplint on one file becomes a
    CAP001 finding for that file instead of an exception that ends the run."""
    from caplint.engine import lint_file, problem_findings

    try:
        return lint_file(found.path, found.kind, settings)
    except Exception as err:  # noqa: BLE001 — the guard is the point
        message = (f"caplint failed on this file ({type(err).__name__}: {err}); "
                   "please report it with the file attached")
        return problem_findings([Problem(Span.point(found.path, 1), message)], "", settings, found.path)


def _init_worker(settings: Settings) -> None:
    global _settings
    _settings = settings


def _lint_chunk(chunk: list[Found]) -> list[list[Finding]]:
    assert _settings is not None
    return [lint_guarded(f, _settings) for f in chunk]


def chunk_size(files: int, jobs: int) -> int:
    return max(MIN_CHUNK, min(MAX_CHUNK, files // (jobs * CHUNKS_PER_WORKER)))


def _context() -> multiprocessing.context.BaseContext | None:
    # fork where it exists (Linux: workers start in milliseconds and share the
    # parent's loaded modules); elsewhere the platform default.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return None


def map_files(found: Sequence[Found], settings: Settings, jobs: int) -> list[list[Finding]]:
    """Each file's findings, in the order of `found`, whatever `jobs` is."""
    size = chunk_size(len(found), jobs)
    chunks = [list(found[i: i + size]) for i in range(0, len(found), size)]
    results: list[list[list[Finding]] | None] = [None] * len(chunks)
    failure: BaseException | None = None
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(chunks)), mp_context=_context(),
                                 initializer=_init_worker, initargs=(settings,)) as pool:
            futures: list[Future[list[list[Finding]]]] = [pool.submit(_lint_chunk, c) for c in chunks]
            for i, future in enumerate(futures):
                try:
                    results[i] = future.result()
                except BrokenProcessPool as err:
                    failure = err
                    break  # every later future fails the same way; redo them below
                except Exception as err:  # noqa: BLE001 — e.g. a result that cannot be pickled
                    failure = err
    except (OSError, BrokenProcessPool) as err:  # no processes at all (limits, sandbox) or a broken shutdown
        failure = failure or err
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        files = sum(len(chunks[i]) for i in missing)
        sys.stderr.write(f"caplint: warning: a worker process failed ({type(failure).__name__}: {failure}); "
                         f"linting {files} file(s) in the main process instead\n")
        for i in missing:
            results[i] = [lint_guarded(f, settings) for f in chunks[i]]
    return [per_file for chunk in results if chunk is not None for per_file in chunk]
