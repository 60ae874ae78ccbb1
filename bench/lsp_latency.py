"""Language-server latency for a 200-line Compose file, against a real
`caplint lsp` process driven by pygls's LanguageClient. A measurement, not a test:

    python bench/lsp_latency.py [runs]          # every figure below
    python bench/lsp_latency.py --changes [runs]  # only the first (bench/startup.py)
    python bench/lsp_latency.py --relint-cpu [runs]  # the re-lint path's CPU time, in process
    python bench/lsp_latency.py --relint-cpu --no-memo [runs]  # the same, every rule run on every lint

- didChange → publishDiagnostics: the re-lint after an edit, with
  `--debounce-ms 0` (the server's own work: apply the change, lint the whole
  document, convert and send the diagnostics), and once with the default
  debounce to show what a user waits in all (300 ms + that).
- didOpen → publishDiagnostics, as before, for each YAML reader.
- `--relint-cpu`: the same re-lint path (settings, lint, diagnostics) run in
  this process, timed in CPU time, which load from other processes does not inflate.
- The lint alone, in this process (`caplint.lsp.lint_document`), so the
  protocol's share is visible.
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

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


async def _client(*server_args: str) -> tuple[LanguageClient, asyncio.Queue[tuple[float, lsp.PublishDiagnosticsParams]]]:
    client = LanguageClient("measure", "0")
    arrived: asyncio.Queue[tuple[float, lsp.PublishDiagnosticsParams]] = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)  # type: ignore[untyped-decorator]
    def on_publish(params: lsp.PublishDiagnosticsParams) -> None:
        arrived.put_nowait((time.perf_counter(), params))

    await client.start_io(sys.executable, "-m", "caplint", "lsp", *server_args)
    general = lsp.GeneralClientCapabilities(position_encodings=["utf-8", "utf-16"])
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(general=general)))
    client.initialized(lsp.InitializedParams())
    return client, arrived


async def _stop(client: LanguageClient) -> None:
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()  # type: ignore[no-untyped-call]


async def measure_changes(runs: int, text: str, debounce_ms: int) -> list[float]:
    """didChange → publishDiagnostics: each change flips one service's
    `privileged` line, so every re-lint has real work and a different answer."""
    client, arrived = await _client("--debounce-ms", str(debounce_ms))
    uri = Path(f"/tmp/measure/change-{debounce_ms}/compose.yaml").as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "yaml", 0, text)))
    await arrived.get()
    line = text.splitlines().index("    restart: unless-stopped")
    times = []
    for version in range(1, runs + 1):
        new = "    privileged: true" if version % 2 else "    restart: unless-stopped"
        old_length = len("    restart: unless-stopped") if version % 2 else len("    privileged: true")
        change = lsp.TextDocumentContentChangePartial(
            range=lsp.Range(lsp.Position(line, 0), lsp.Position(line, old_length)), text=new)
        start = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=version), [change]))
        end, params = await arrived.get()
        assert params.version == version
        times.append((end - start) * 1000)
    await _stop(client)
    return times


def relint_cpu(runs: int, text: str, *, memo: bool = True) -> list[float]:
    """CPU milliseconds of the server's re-lint path in this process, per run:
    settings for the document, lint the whole buffer (with the document's
    CheckMemo, as the server keeps it; `--no-memo`: without, a lint from
    scratch every time), convert the findings to
    diagnostics (what `CaplintServer.publish` does between didChange and
    publishDiagnostics, without the protocol). Each run flips one service's
    `privileged` line, as `measure_changes` does. CPU time, unlike wall time,
    is not inflated by other processes waiting for a core."""
    from lsprotocol.types import PositionEncodingKind
    from pygls.workspace import PositionCodec

    from caplint.engine import CheckMemo
    from caplint.lsp import lint_document, settings_for, to_diagnostic

    codec = PositionCodec(PositionEncodingKind.Utf16)
    kept = CheckMemo() if memo else None  # the server keeps one per document
    flipped = text.replace("    restart: unless-stopped", "    privileged: true", 1)
    project = Path(__file__).resolve().parent / "corpus" / "startup-project"
    # A project of its own (bench/startup.py makes the same): otherwise the config
    # walk would reach caplint's checkout and parse its pyproject.toml on every lint.
    (project / ".git").mkdir(parents=True, exist_ok=True)
    path = str(project / "lsp" / "compose.yaml")
    times = []
    for run in range(runs):
        source = flipped if run % 2 else text
        start = time.process_time()
        lines = source.split("\n")
        [to_diagnostic(f, lines, codec) for f in lint_document(path, source, settings_for(path), memo=kept)]
        times.append((time.process_time() - start) * 1000)
    return times


def lint_alone(runs: int, text: str) -> list[float]:
    from caplint.lsp import lint_document, settings_for

    path = "/tmp/measure/alone/compose.yaml"
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        lint_document(path, text, settings_for(path))
        times.append((time.perf_counter() - start) * 1000)
    return times


async def measure(runs: int, text: str) -> list[float]:
    client = LanguageClient("measure", "0")
    arrived: asyncio.Queue[tuple[float, lsp.PublishDiagnosticsParams]] = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)  # type: ignore[untyped-decorator]
    def on_publish(params: lsp.PublishDiagnosticsParams) -> None:
        arrived.put_nowait((time.perf_counter(), params))

    await client.start_io(sys.executable, "-m", "caplint", "lsp")
    general = lsp.GeneralClientCapabilities(position_encodings=["utf-8", "utf-16"])
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(general=general)))
    client.initialized(lsp.InitializedParams())
    times = []
    for i in range(runs):
        uri = Path(f"/tmp/measure/{id(text)}/{i}/compose.yaml").as_uri()
        start = time.perf_counter()
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "yaml", 0, text)))
        end, params = await arrived.get()
        times.append((end - start) * 1000)
        if i == 0:
            print(f"  {len(text.splitlines())} lines, {len(params.diagnostics)} diagnostics")
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()  # type: ignore[no-untyped-call]
    return times


def _summary(times: list[float]) -> str:
    ordered = sorted(times)
    return (f"median {statistics.median(ordered):.1f} ms, p90 {ordered[int(len(ordered) * 0.9)]:.1f} ms, "
            f"max {ordered[-1]:.1f} ms over {len(ordered)}")


def main() -> None:
    args = sys.argv[1:]
    changes_only = "--changes" in args  # bench/startup.py: one figure, the re-lint after a change
    cpu_only = "--relint-cpu" in args  # bench/startup.py: the re-lint's CPU time, in process
    memo = "--no-memo" not in args
    args = [a for a in args if a not in ("--changes", "--relint-cpu", "--no-memo")]
    runs = int(args[0]) if args else 50
    text = compose_file()
    if cpu_only:
        times = relint_cpu(runs + 2, text, memo=memo)[2:]  # the first two compile what the first lint meets
        print(f"re-lint in process (cpu{'' if memo else ', no memo'}): " + _summary(times))
        return
    if changes_only:
        times = asyncio.run(measure_changes(runs + 2, text, 0))[2:]  # the first two warm the server up
        print("didChange → publishDiagnostics (--debounce-ms 0): " + _summary(times))
        return
    print("didChange → publishDiagnostics, --debounce-ms 0 (the re-lint itself):")
    print("  " + _summary(asyncio.run(measure_changes(runs, text, 0))[2:]))
    print("didChange → publishDiagnostics, default debounce (what a typist waits after the last key):")
    print("  " + _summary(asyncio.run(measure_changes(max(5, runs // 10), text, 300))))
    print("lint_document alone, in this process (no protocol):")
    lint_alone(3, text)
    print("  " + _summary(lint_alone(runs, text)))
    for flow_colon in (False, True):
        print("flow list with a colon (pure-Python YAML fallback):" if flow_colon else "quoted entries (libyaml):")
        times = asyncio.run(measure(runs, compose_file(flow_colon=flow_colon)))
        print(f"  first open: {times[0]:.1f} ms (includes importing the parser and rules)")
        rest = sorted(times[1:])
        print(f"  then, over {len(rest)} opens: median {statistics.median(rest):.1f} ms, "
              f"p90 {rest[int(len(rest) * 0.9)]:.1f} ms, max {rest[-1]:.1f} ms")


if __name__ == "__main__":
    main()
