"""A language-server client at the byte level, for measuring: it writes
JSON-RPC frames to the server's stdin and timestamps a message when its last
byte has been read from the server's stdout, before decoding it. What a
client does with the message afterwards (pygls's LanguageClient structures
every diagnostic back into an object, ~3 ms for 38 of them; an editor does
something else again) is the client's cost, not the server's latency.

On Linux it also reads the server's CPU time (every thread's, from
/proc/PID/task/*/schedstat, in nanoseconds), so the CPU a change costs the
server can be told apart from the time it waited for a core.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HEADER_END = b"\r\n\r\n"


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def content_length(header: bytes) -> int:
    for line in header.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise ValueError(f"no Content-Length in {header!r}")


class WireClient:
    """One server process; messages in, (arrival time, message) out."""

    def __init__(self, argv: Sequence[str], cwd: Path | None = None) -> None:
        self.process = subprocess.Popen(list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, cwd=cwd)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout.fileno()
        self.buffer = b""
        self.last_id = 0

    def send(self, method: str, params: Any, *, request: bool = False) -> int | None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.last_id += 1
            message["id"] = self.last_id
        self.stdin.write(frame(message))
        return message.get("id")

    def receive(self) -> tuple[float, bytes]:
        """The next message's body and the perf_counter time its last byte arrived."""
        while True:
            header, found, rest = self.buffer.partition(HEADER_END)
            if found:
                length = content_length(header)
                if len(rest) >= length:
                    self.buffer = rest[length:]
                    return self.arrived, rest[:length]
            chunk = os.read(self.stdout, 1 << 20)
            self.arrived = time.perf_counter()
            if not chunk:
                raise EOFError("the server closed its stdout")
            self.buffer += chunk

    def until(self, wanted: Callable[[dict[str, Any]], bool]) -> tuple[float, dict[str, Any]]:
        """Skips messages (log messages, other documents) up to the wanted one."""
        while True:
            arrived, body = self.receive()
            message = json.loads(body)
            if wanted(message):
                return arrived, message

    def initialize(self, encodings: Sequence[str] = ("utf-8", "utf-16")) -> dict[str, Any]:
        request = self.send("initialize", {"processId": os.getpid(), "rootUri": None,
                                           "capabilities": {"general": {"positionEncodings": list(encodings)}}},
                            request=True)
        _, response = self.until(lambda m: m.get("id") == request)
        self.send("initialized", {})
        return response

    def close(self) -> None:
        request = self.send("shutdown", None, request=True)
        self.until(lambda m: m.get("id") == request)
        self.send("exit", None)
        self.stdin.close()
        self.process.wait(timeout=10)
        self.process.stdout.close()  # type: ignore[union-attr]

    def cpu_ns(self) -> int | None:
        """The server's CPU time so far over all its threads (Linux), else None."""
        try:
            tasks = os.listdir(f"/proc/{self.process.pid}/task")
        except OSError:
            return None
        total = 0
        for task in tasks:
            try:
                with open(f"/proc/{self.process.pid}/task/{task}/schedstat", "rb") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue  # a thread that ended meanwhile
        return total


def is_publish(uri: str, version: int | None = None) -> Callable[[dict[str, Any]], bool]:
    def wanted(message: dict[str, Any]) -> bool:
        params = message.get("params") or {}
        return (message.get("method") == "textDocument/publishDiagnostics" and params.get("uri") == uri
                and (version is None or params.get("version") == version))

    return wanted
