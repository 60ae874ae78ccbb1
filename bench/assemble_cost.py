"""What the assemble stage costs: the bench corpus linted in this process
(`--jobs 1`) with `engine.parse_assembled` as it is and with each file
parsed alone instead, median of a few runs each, CPU seconds.

    python bench/assemble_cost.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import generate  # noqa: E402

from caplint import assemble, discover, engine  # noqa: E402


def _cpu(found: list[discover.Found]) -> tuple[float, int]:
    for cache in (assemble._texts, assemble._images, assemble._trees, assemble._parsed):
        cache.clear()
    start = time.process_time()
    findings = engine.lint_found(found)
    return time.process_time() - start, len(findings)


def _alone(path: str, text: str, kind: str, runtime: str | None = None) -> engine.ParseResult:
    """Each file judged alone, as before the assemble stage."""
    return engine.parser_for(kind)(text, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = generate(Path(tmp) / "tree")
        found = list(discover.discover([str(corpus.root)]))
        real = engine.parse_assembled
        with_stage = [_cpu(found) for _ in range(args.repeats)]
        engine.parse_assembled = _alone  # type: ignore[assignment]
        try:
            without = [_cpu(found) for _ in range(args.repeats)]
        finally:
            engine.parse_assembled = real  # type: ignore[assignment]
    a, b = statistics.median(t for t, _ in with_stage), statistics.median(t for t, _ in without)
    print(f"files: {len(found)}")
    print(f"with assemble:    {a:.2f} s CPU, {with_stage[0][1]} findings")
    print(f"without assemble: {b:.2f} s CPU, {without[0][1]} findings")
    print(f"cost: {a - b:+.2f} s ({(a - b) / b * 100:+.1f} %)")


if __name__ == "__main__":
    main()
