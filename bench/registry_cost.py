"""What `importlib.metadata.entry_points(group=...)` costs as a venv grows,
and what a cache keyed on the site folders' mtimes would cost instead.

Fake distributions (a `.dist-info` folder with METADATA, RECORD and, for some,
an `entry_points.txt`) are written to a folder put on PYTHONPATH, so the
scan reads exactly what it reads in a real environment with that many
packages. Each figure is the median of several fresh processes.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

from measure import bench_env

# Timed inside the child so interpreter start-up is not part of the figure,
# after what a `caplint check` run has imported anyway (re, json, the engine):
# the figures are what the registry adds.
_PRELUDE = "import json, os, re, sys, time\nimport caplint.engine\n"
_SCAN = _PRELUDE + """
t0 = time.perf_counter()
from importlib.metadata import entry_points
t1 = time.perf_counter()
eps = entry_points(group="caplint.rules")
t2 = time.perf_counter()
print(f"{(t1 - t0) * 1e3:.3f} {(t2 - t1) * 1e3:.3f} {len(eps)}")
"""

# A prototype of the proposed cache's hit path: stat every sys.path folder
# (an install or uninstall changes its mtime), compare with the stored key,
# and read the stored entry points.
_CACHE_HIT = _PRELUDE + """
t0 = time.perf_counter()
key = []
for entry in sys.path:
    try:
        st = os.stat(entry or ".")
    except OSError:
        continue
    key.append([entry, st.st_mtime_ns])
with open(sys.argv[1]) as fh:
    stored = json.load(fh)
hit = stored["key"] == key
t1 = time.perf_counter()
if not hit:
    json.dump({"key": key, "eps": stored["eps"]}, open(sys.argv[1], "w"))
print(f"{(t1 - t0) * 1e3:.3f} {int(hit)}")
"""


def fake_site(root: Path, count: int) -> Path:
    site = root / f"site-{count}"
    marker = site / ".complete"
    if marker.exists():
        return site
    for i in range(count):
        info = site / f"fakepkg{i:05d}-1.{i % 7}.0.dist-info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fakepkg{i:05d}\nVersion: 1.{i % 7}.0\n")
        (info / "RECORD").write_text(f"fakepkg{i:05d}/__init__.py,,\n")
        if i % 5 < 2:  # many real packages ship console scripts or plugins
            (info / "entry_points.txt").write_text(
                f"[console_scripts]\nfake{i} = fakepkg{i:05d}.cli:main\n\n[pytest11]\nfake{i} = fakepkg{i:05d}.plugin\n"
            )
    marker.write_text("")
    return site


def _median_child(code: str, env: dict[str, str], args: list[str], repeat: int) -> list[float]:
    rows = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60)
        rows.append([float(x) for x in out.stdout.split()])
    return [statistics.median(col) for col in zip(*rows)]


def measure(root: Path, sizes: tuple[int, ...] = (0, 300, 1000), repeat: int = 7) -> list[dict[str, float]]:
    results = []
    for size in sizes:
        env = bench_env(root / ".pycache")
        if size:
            env["PYTHONPATH"] = str(fake_site(root, size))
        import_ms, scan_ms, found = _median_child(_SCAN, env, [], repeat)
        cache = root / f"registry-cache-{size}.json"
        cache.write_text('{"key": [], "eps": []}')
        _median_child(_CACHE_HIT, env, [str(cache)], 1)  # store the key
        hit_ms, hit = _median_child(_CACHE_HIT, env, [str(cache)], repeat)
        results.append({"extra_dists": size, "import_ms": import_ms, "scan_ms": scan_ms,
                        "rules": found, "cache_hit_ms": hit_ms, "hit": hit})
    return results


if __name__ == "__main__":
    for row in measure(Path(__file__).resolve().parent / "corpus"):
        print(row)
