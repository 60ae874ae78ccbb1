"""Lints files across processes; results come back in input order."""
from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from caplint.discover import Found
from caplint.model import Finding


def _lint_chunk(args: tuple[list[Found], object]) -> list[list[Finding]]:
    from caplint.engine import lint_file

    chunk, settings = args
    return [lint_file(f.path, f.kind, settings) for f in chunk]  # type: ignore[arg-type]


def map_files(found: Sequence[Found], settings: object, jobs: int) -> list[list[Finding]]:
    # Chunks amortise pickling; several per worker keep the cores busy at the end.
    size = max(1, min(64, len(found) // (jobs * 4)))
    chunks = [list(found[i: i + size]) for i in range(0, len(found), size)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return [per_file for result in pool.map(_lint_chunk, [(c, settings) for c in chunks]) for per_file in result]
