"""The language server's transport, byte by byte: a real `caplint lsp` process
given JSON-RPC frames the way clients really deliver them (a message split
over several writes, several messages in one write, stdin a regular file or
one socket for both directions), and its stdout read back as frames."""
from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from caplint.lsp import reads_as_pipe

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 20.0
IN_LOOP, IN_THREADS = "reading stdin in the event loop", "reading stdin through pygls's threads"
# The server writes diagnostics itself while pygls writes with the writer it
# was given; if a pygls release stops doing so, this line goes and a test says so.
FROM_JSON = "diagnostics for %s written from their JSON"

COMPOSE = """\
services:
  web:
    image: nginx:1.27
    privileged: true
    cap_drop: [ALL]
    security_opt: [no-new-privileges:true]
"""
URI = (ROOT / "tests" / "wire" / "compose.yaml").as_uri()  # never written: the text comes with didOpen


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def initialize(id_: int = 1) -> bytes:
    return frame({"jsonrpc": "2.0", "id": id_, "method": "initialize",
                  "params": {"processId": None, "rootUri": None, "capabilities": {}}})


def notification(method: str, params: Any) -> bytes:
    return frame({"jsonrpc": "2.0", "method": method, "params": params})


def did_open(text: str = COMPOSE, uri: str = URI) -> bytes:
    return notification("textDocument/didOpen",
                        {"textDocument": {"uri": uri, "languageId": "yaml", "version": 0, "text": text}})


def did_change(version: int, line: int, start: int, end: int, text: str, uri: str = URI) -> bytes:
    change = {"range": {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}},
              "text": text}
    return notification("textDocument/didChange",
                        {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]})


SHUTDOWN_AND_EXIT = frame({"jsonrpc": "2.0", "id": 99, "method": "shutdown", "params": None}) \
    + notification("exit", None)


def parse_frames(data: bytes) -> tuple[list[dict[str, Any]], bytes]:
    """The complete messages at the start of `data`, and what is left of it."""
    messages = []
    while True:
        header, found, rest = data.partition(b"\r\n\r\n")
        if not found:
            return messages, data
        length = next(int(line.split(b":")[1]) for line in header.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        if len(rest) < length:
            return messages, data
        messages.append(json.loads(rest[:length]))
        data = rest[length:]


class Reader:
    """Reads frames from a file descriptor until a wanted message arrives."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = b""
        self.seen: list[dict[str, Any]] = []

    def until(self, wanted: Any) -> dict[str, Any]:
        deadline = time.monotonic() + DEADLINE
        while True:
            for i, message in enumerate(self.seen):
                if wanted(message):
                    del self.seen[: i + 1]
                    return message
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise AssertionError(f"nothing wanted arrived; got {self.seen}")
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                raise AssertionError(f"the server closed its stdout; got {self.seen}")
            messages, self.pending = parse_frames(self.pending + chunk)
            self.seen.extend(messages)


def published(version: int | None = None) -> Any:
    def wanted(message: dict[str, Any]) -> bool:
        params = message.get("params") or {}
        return message.get("method") == "textDocument/publishDiagnostics" and params.get("uri") == URI \
            and (version is None or params.get("version") == version)

    return wanted


def codes(message: dict[str, Any]) -> list[str]:
    return sorted(d["code"] for d in message["params"]["diagnostics"])


def server(**streams: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "caplint", "lsp", "--debounce-ms", "0", "--log-level", "DEBUG"],
                            stderr=subprocess.PIPE, cwd=ROOT, **streams)


def finish(proc: subprocess.Popen[bytes]) -> str:
    """Waits for the server to exit; its stderr (the log)."""
    _, err = proc.communicate(timeout=DEADLINE)
    log = err.decode("utf-8", "replace")
    assert proc.returncode == 0, log
    assert "Traceback" not in log, log
    return log


def test_a_message_split_over_writes_and_messages_sharing_one_are_all_answered() -> None:
    proc = server(stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    reader = Reader(proc.stdout.fileno())
    # initialize in five pieces: inside the header name, after the header line,
    # inside the blank line, inside the body; each written and left to arrive alone.
    data = initialize()
    cuts = [7, data.index(b"\r\n") + 2, data.index(b"\r\n\r\n") + 3, len(data) - 10]
    for piece in (data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])):
        os.write(proc.stdin.fileno(), piece)
        time.sleep(0.05)
    response = reader.until(lambda m: m.get("id") == 1)
    assert response["result"]["serverInfo"]["name"] == "caplint"
    # initialized, an open and two changes in a single write.
    os.write(proc.stdin.fileno(), notification("initialized", {}) + did_open()
             + did_change(1, 3, 16, 20, "false") + did_change(2, 3, 16, 21, "true"))
    assert codes(reader.until(published(0))) == ["CAP101"]
    assert codes(reader.until(published(1))) == []
    assert codes(reader.until(published(2))) == ["CAP101"]
    # One message and the start of the next in one write, the rest in another.
    first, second = did_change(3, 3, 16, 20, "false"), did_change(4, 3, 16, 21, "true")
    os.write(proc.stdin.fileno(), first + second[:25])
    assert codes(reader.until(published(3))) == []
    time.sleep(0.05)
    os.write(proc.stdin.fileno(), second[25:])
    assert codes(reader.until(published(4))) == ["CAP101"]
    os.write(proc.stdin.fileno(), SHUTDOWN_AND_EXIT)
    assert reader.until(lambda m: m.get("id") == 99)["result"] is None
    log = finish(proc)
    assert IN_LOOP in log
    assert log.count(FROM_JSON % URI) == 5


def test_an_overlong_line_is_passed_over_and_the_next_message_answered() -> None:
    # Longer than the stream's 64 KiB line limit, and no header: pygls's own
    # reader reads such a line whole and ignores it; so must the pipe reader.
    junk = b"x" * 200_000 + b"\r\n"
    proc = server(stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    out, _ = proc.communicate(junk + initialize() + notification("initialized", {}) + did_open() + SHUTDOWN_AND_EXIT,
                              timeout=DEADLINE)
    messages, left = parse_frames(out)
    assert left == b""
    assert [m["id"] for m in messages if "id" in m] == [1, 99]
    assert [codes(m) for m in messages if published(0)(m)] == [["CAP101"]]


def test_input_ending_inside_a_body_is_reported_and_ends_the_server() -> None:
    # As with pygls's own reader: the short body is handed on, fails to
    # decode, is reported to the client, and the end of input ends the server.
    proc = server(stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, err = proc.communicate(initialize()[:-20], timeout=DEADLINE)
    assert proc.returncode == 0, err
    assert b"IncompleteReadError" not in err
    [message], left = parse_frames(out)
    assert left == b""
    assert message["method"] == "window/showMessage" and message["params"]["type"] == 1


def test_stdin_a_regular_file_is_read_through_pygls_and_answered(tmp_path: Path) -> None:
    requests = tmp_path / "requests.bin"
    requests.write_bytes(initialize() + notification("initialized", {}) + did_open()
                         + did_change(1, 3, 16, 20, "false") + SHUTDOWN_AND_EXIT)
    with requests.open("rb") as stdin:
        proc = server(stdin=stdin, stdout=subprocess.PIPE)
        out, err = proc.communicate(timeout=DEADLINE)
    assert proc.returncode == 0, err
    assert IN_THREADS in err.decode()
    assert err.decode().count(FROM_JSON % URI) == 2
    messages, left = parse_frames(out)
    assert left == b""
    assert [codes(m) for m in messages if published()(m)] == [["CAP101"], []]
    assert [m["id"] for m in messages if "id" in m] == [1, 99]


def test_one_socket_for_stdin_and_stdout_is_read_through_pygls() -> None:
    # Reading it in the event loop would make the server's writes to the same socket non-blocking.
    ours, theirs = socket.socketpair()
    with ours, theirs:
        proc = server(stdin=theirs, stdout=theirs)
        theirs.close()
        reader = Reader(ours.fileno())
        ours.sendall(initialize() + notification("initialized", {}) + did_open())
        assert codes(reader.until(published(0))) == ["CAP101"]
        ours.sendall(SHUTDOWN_AND_EXIT)
        reader.until(lambda m: m.get("id") == 99)
        ours.shutdown(socket.SHUT_WR)
        assert IN_THREADS in finish(proc)


def test_reads_as_pipe_only_for_a_pipe_or_socket_of_its_own(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    out_read, out_write = os.pipe()
    path = tmp_path / "file"
    path.write_bytes(b"")
    one, other = socket.socketpair()
    with os.fdopen(read_end, "rb") as pipe_in, os.fdopen(write_end, "wb") as pipe_out, \
            os.fdopen(out_write, "wb") as stdout, os.fdopen(out_read, "rb"), path.open("rb") as regular, one, other:
        assert reads_as_pipe(pipe_in, stdout)
        assert reads_as_pipe(one.makefile("rb"), stdout)
        assert not reads_as_pipe(regular, stdout)
        assert not reads_as_pipe(one.makefile("rb"), one.makefile("wb"))
        assert not reads_as_pipe(pipe_in, pipe_out)  # the two ends of one pipe are one file
        import io

        assert not reads_as_pipe(io.BytesIO(b""), stdout)  # type: ignore[arg-type]


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_stdin_from_dev_null_ends_at_once() -> None:
    # A character device: not read in the event loop; the end of input ends the server.
    with open("/dev/null", "rb") as stdin:
        proc = server(stdin=stdin, stdout=subprocess.PIPE)
        out, err = proc.communicate(timeout=DEADLINE)
    assert (out, proc.returncode) == (b"", 0), err
    assert IN_THREADS in err.decode()
