"""caplint's cache folder: small files that spare each run work an earlier one
already did (the installed rules, the value classes' compiled `__init__`s).

One file per interpreter and purpose, under `$XDG_CACHE_HOME/caplint/` (else
`~/.cache/caplint/`). Every cache is only ever a shortcut: a file that is
missing, unreadable, from another version or corrupt means the work is done
again, and writing one that fails is ignored. CAPLINT_NO_CACHE=1 turns them
all off. Imported by the first modules caplint loads, so it imports nothing
that is not already loaded when Python starts.
"""
from __future__ import annotations

import os
import sys


def cache_file(purpose: str, suffix: str = ".txt") -> str | None:
    """The path of this interpreter's `purpose` cache, or None when caching is off."""
    if os.environ.get("CAPLINT_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    # One file per interpreter: a readable name from its path, not a hash
    # (hashlib costs milliseconds to import).
    name = "".join(c if c.isalnum() else "_" for c in os.path.abspath(sys.executable)).strip("_")[-120:]
    return os.path.join(base, "caplint", f"{purpose}-{name}{suffix}")


def write_atomically(path: str, data: bytes) -> None:
    """Replace `path` with `data` in one step (a concurrent run reads the old
    file or the new one, never half of one); any error leaves it as it was."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
