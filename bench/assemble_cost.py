"""What the assemble stage costs: the bench corpus linted in this process
(`--jobs 1`) with `engine.assembled` as it is and with it replaced by a
pass-through, median of a few runs each, CPU seconds.

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
    assemble._texts.clear()
    assemble._images.clear()
    start = time.process_time()
    findings = engine.lint_found(found)
    return time.process_time() - start, len(findings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = generate(Path(tmp) / "tree")
        found = list(discover.discover([str(corpus.root)]))
        real = engine.assembled
        with_stage = [_cpu(found) for _ in range(args.repeats)]
        engine.assembled = lambda path, text, kind, result, runtime=None: result  # type: ignore[assignment]
        try:
            without = [_cpu(found) for _ in range(args.repeats)]
        finally:
            engine.assembled = real  # type: ignore[assignment]
    a, b = statistics.median(t for t, _ in with_stage), statistics.median(t for t, _ in without)
    print(f"files: {len(found)}")
    print(f"with assemble:    {a:.2f} s CPU, {with_stage[0][1]} findings")
    print(f"without assemble: {b:.2f} s CPU, {without[0][1]} findings")
    print(f"cost: {a - b:+.2f} s ({(a - b) / b * 100:+.1f} %)")


if __name__ == "__main__":
    main()
