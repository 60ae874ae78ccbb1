"""caplint's cache folder: small files that spare each run work an earlier one
already did (the installed rules, the value classes' compiled `__init__`s, the
programs of regular expressions).

One file per interpreter and purpose, under `$XDG_CACHE_HOME/caplint/` (else
`~/.cache/caplint/`). Every cache is only ever a shortcut: a file that is
missing, unreadable, from another version or corrupt means the work is done
again, and writing one that fails is ignored. CAPLINT_NO_CACHE=1 turns them
all off. Imported by the first modules caplint loads, so it imports nothing
that is not already loaded when Python starts.
"""
from __future__ import annotations

import atexit
import marshal
import os
import sys
from typing import Any


def cache_file(purpose: str) -> str | None:
    """The path of this interpreter's `purpose` cache, or None when caching is off."""
    if os.environ.get("CAPLINT_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    # One file per interpreter: a readable name from its path, not a hash
    # (hashlib costs milliseconds to import).
    name = "".join(c if c.isalnum() else "_" for c in os.path.abspath(sys.executable)).strip("_")[-120:]
    return os.path.join(base, "caplint", f"{purpose}-{name}.marshal")


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


class Store:
    """A dictionary kept between runs in one marshalled file, for what costs
    more to make than to load (compiled code, pattern programs). It is read
    on first use and written once at exit when something was added; a file
    from another interpreter version (its header differs) is not read.
    Values are what `marshal` can hold; callers check what they get back.
    When the file holds more than `limit` entries (old caplint versions'),
    only the ones this run used are written back."""

    def __init__(self, purpose: str, version: str, limit: int = 1000) -> None:
        self._purpose = purpose
        self._header = f"caplint-{purpose} {version} {sys.version}\n".encode("utf-8", "replace")
        self._limit = limit
        self._data: dict[Any, Any] | None = None
        self._used: set[Any] = set()
        self._unsaved = False

    def get(self, key: Any) -> Any:
        self._used.add(key)
        return self._loaded().get(key)

    def put(self, key: Any, value: Any) -> None:
        self._loaded()[key] = value
        self._used.add(key)
        if not self._unsaved:
            self._unsaved = True
            atexit.register(self.save)

    def _loaded(self) -> dict[Any, Any]:
        if self._data is None:
            self._data = self._load()
        return self._data

    def _load(self) -> dict[Any, Any]:
        path = cache_file(self._purpose)
        if path is None:
            return {}
        try:
            with open(path, "rb") as fh:
                data = fh.read()
            if not data.startswith(self._header):
                return {}
            loaded = marshal.loads(data[len(self._header):])
        except (OSError, ValueError, EOFError, TypeError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def save(self) -> None:
        path = cache_file(self._purpose)
        if path is None or self._data is None:
            return
        kept = self._data if len(self._data) <= self._limit else {k: v for k, v in self._data.items() if k in self._used}
        try:
            data = marshal.dumps(kept)
        except ValueError:  # something marshal cannot hold: nothing is cached rather than a broken file
            return
        write_atomically(path, self._header + data)
