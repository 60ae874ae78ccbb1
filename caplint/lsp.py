"""The language server: caplint's findings as diagnostics while you edit.

Run as `caplint lsp` (or `python -m caplint.lsp`); it speaks LSP over stdin and
stdout only. What real editors do that a minimal client does not shapes this
module: Neovim offers the `utf-8` position encoding first and syncs
incrementally, so columns are converted for whichever encoding was agreed and
the whole workspace document is linted, never the change fragment; editors name
languages differently (`yaml`, `dockerfile`, `sh`; `json` or `jsonc` for a
devcontainer.json, `yaml` or `github-actions-workflow` for a workflow), so
the parser is chosen by file name and content, never by `languageId`
(`LANGUAGE_IDS` lists the ones an editor should attach the server to); and an editor shows the server's
stderr in its log, so stdout must carry nothing but protocol.

An editor waits for the diagnostics after every change, so the protocol's
own cost counts too (bench/lsp_latency.py measures it against a pygls
server that does nothing): stdin is read in the event loop, not through a
thread per read (`serve`).
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import stat
import sys
import threading
from collections.abc import Sequence
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

from lsprotocol import types as lsp
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import PositionCodec

from caplint import __version__, engine
from caplint.config import ConfigError
from caplint.model import Finding, Fix, Severity, Span
from caplint.report import rule_page_url

log = logging.getLogger("caplint.lsp")

# Long enough to skip the keystrokes of a word, short enough to feel immediate;
# `caplint lsp --debounce-ms N` changes it (0: lint on every change).
DEBOUNCE_SECONDS = 0.3

# The language ids of the buffers worth attaching the server to (a client's
# document selector); the server itself decides by name and content.
LANGUAGE_IDS = ("dockerfile", "yaml", "yaml.docker-compose", "dockercompose", "github-actions-workflow",
                "json", "jsonc", "sh", "shellscript", "bash")

SEVERITIES = {
    Severity.CRITICAL: lsp.DiagnosticSeverity.Error,
    Severity.HIGH: lsp.DiagnosticSeverity.Error,
    Severity.MEDIUM: lsp.DiagnosticSeverity.Warning,
    Severity.LOW: lsp.DiagnosticSeverity.Information,
}


def document_path(uri: str) -> str:
    """The file path a document stands for; for an unsaved buffer
    (`untitled:Untitled-1`) the URI's own path, which is enough to tell its kind."""
    path = to_fs_path(uri)
    if path:
        return path
    parts = urlsplit(uri)
    return unquote(parts.path or parts.netloc or uri)


def settings_for(path: str) -> engine.Settings:
    """The settings the CLI would use for this file (its nearest `.caplint.toml`
    or `[tool.caplint]`, not looking past the repository root), resolved the
    same way (`caplint.settings`). The config file is looked for afresh on every
    lint and read again whenever it changed (by modification time, size and
    inode), so editing it takes effect at once; an unchanged one is not
    re-parsed on every keystroke. Raises ConfigError."""
    import os

    from caplint.config import find
    from caplint.registry import all_rules
    from caplint.settings import Resolver

    config_path = find(path)
    try:
        st = os.stat(config_path) if config_path else None
    except OSError:
        st = None
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino) if st else None
    cached = _SETTINGS.get(config_path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    settings = Resolver({r.id for r in all_rules()}).for_file(path)
    _SETTINGS[config_path] = (stamp, settings)
    return settings


# Config file (None: none applies) → (its stamp when read, the settings made from it).
_SETTINGS: dict[str | None, tuple[tuple[int, int, int] | None, engine.Settings]] = {}


def lint_document(path: str, text: str, settings: engine.Settings | None = None, *,
                  fixes: bool = False, memo: engine.CheckMemo | None = None) -> list[Finding]:
    """Findings for an editor buffer; none for a file caplint has no parser for
    or that the configuration excludes. `memo`, kept per document across its
    lints, spares the rules on what an edit left unchanged (the findings are
    the same as without it). Diagnostics show no fingerprints, so none is made.

    The CLI reports an explicit file of unknown kind as CAP001 because the user
    asked for it; an editor opens every YAML and text file, so silence is right.
    """
    settings = settings or engine.Settings()
    if fixes:  # edits spelt out, for code actions
        from caplint.fixing.run import with_fixes

        settings = with_fixes(settings)
    text = text.replace("\r\n", "\n")
    kind = engine.detect_kind(path, text)
    if kind is None or settings.excludes(path):
        return []
    # A finding in another file (a Quadlet drop-in's value) is not this buffer's to show.
    return [f for f in engine.lint_text(path, text, kind, settings, memo=memo, fingerprints=False)
            if f.span.path == path]


def to_range(span: Span, lines: Sequence[str], codec: PositionCodec) -> lsp.Range:
    """A 0-based LSP range in the agreed encoding from caplint's 1-based code-point span."""

    def position(line: int, column: int) -> lsp.Position:
        if not lines:
            return lsp.Position(0, 0)
        index = min(max(line - 1, 0), len(lines) - 1)
        before = lines[index][: max(column - 1, 0)]
        # Every encoding counts an ASCII character as one unit; the codec walks the text character by character.
        return lsp.Position(index, len(before) if before.isascii() else codec.client_num_units(before))

    start = position(span.line, span.column)
    end = position(span.end_line, span.end_column)
    if end == start and lines:
        # A point (a parse error, a whole service) would be an invisible
        # squiggle in most editors: stretch it to the end of the line's text.
        text = lines[start.line].rstrip()
        if len(text) >= span.column:
            end = lsp.Position(start.line, len(text) if text.isascii() else codec.client_num_units(text))
    return lsp.Range(start, end)


def to_diagnostic(finding: Finding, lines: Sequence[str], codec: PositionCodec) -> lsp.Diagnostic:
    return lsp.Diagnostic(
        range=to_range(finding.span, lines, codec),
        severity=SEVERITIES[finding.severity],
        code=finding.rule_id,
        code_description=lsp.CodeDescription(href=rule_page_url(finding.rule_id)),
        source="caplint",
        # Editors show the message on hover and in their problem lists: the fix belongs there too.
        message=f"{finding.message}\nfix: {finding.advice}" if finding.advice else finding.message,
    )


def diagnostic_key(finding: Finding, lines: Sequence[str], encoding: object) -> tuple[object, ...]:
    """All that `to_diagnostic` reads (the finding's rule, severity, message,
    advice and span; the text of the lines the span starts and ends on, as
    `to_range` clamps them; the encoding), flat, so it hashes in C."""
    span, last = finding.span, len(lines) - 1
    start, end = min(max(span.line - 1, 0), last), min(max(span.end_line - 1, 0), last)
    return (finding.rule_id, int(finding.severity), finding.message, finding.advice, span.line, span.column,
            span.end_line, span.end_column, encoding, lines[start], lines[end])


class Converted:
    """A finding's diagnostic, and its JSON as pygls would write it (made on first use)."""

    __slots__ = ("diagnostic", "_json")

    def __init__(self, diagnostic: lsp.Diagnostic) -> None:
        self.diagnostic = diagnostic
        self._json: str | None = None

    @property
    def json(self) -> str:
        if self._json is None:
            self._json = json.dumps(_converter().unstructure(self.diagnostic))
        return self._json


@functools.cache
def _converter() -> Any:
    from lsprotocol.converters import get_converter

    return get_converter()


class DiagnosticMemo:
    """A document's diagnostics of its last publish, by `diagnostic_key`: a
    re-lint after an edit converts (and writes as JSON) only the findings it
    changed or whose lines it changed; the others are the same as last time.
    Only the last publish's are kept, so the memo never outgrows the
    document's findings."""

    def __init__(self) -> None:
        self.last: dict[tuple[object, ...], Converted] = {}

    def convert(self, found: Sequence[Finding], lines: Sequence[str], codec: PositionCodec) -> list[Converted]:
        if not lines:
            return [Converted(to_diagnostic(f, lines, codec)) for f in found]
        last, kept, out = self.last, {}, []
        for finding in found:
            key = diagnostic_key(finding, lines, codec.encoding)
            converted = last.get(key) or Converted(to_diagnostic(finding, lines, codec))
            kept[key] = converted
            out.append(converted)
        self.last = kept
        return out


def publish_frame(uri: str, version: int | None, diagnostics: Sequence[str]) -> bytes:
    """A publishDiagnostics notification framed for the wire, from diagnostics
    already in JSON: the same message pygls would write (its JSON style, its
    headers), without unstructuring and encoding them all again."""
    params: dict[str, object] = {"uri": uri} if version is None else {"uri": uri, "version": version}
    params["diagnostics"] = []
    head = json.dumps({"jsonrpc": "2.0", "method": lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, "params": params})
    # The empty list is the last value, so the frame ends `[]}}`: the diagnostics go between the brackets.
    body = f"{head[:-3]}{', '.join(diagnostics)}]}}}}".encode()
    return b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" % len(body) + body


class CaplintServer(LanguageServer):
    """Remembers, per document, the pending debounced lint, the last findings
    and the rules' hits on the last lint's containers (so a re-lint after an
    edit runs the rules only on what it changed), keyed by URI. Diagnostics
    need no edits; a code action request lints the version it is about once
    more with every fix spelt out (about as much work again: not worth paying
    on every keystroke) and keeps that."""

    def __init__(self) -> None:
        super().__init__("caplint", __version__)
        self.pending: dict[str, asyncio.TimerHandle] = {}
        # URI → (document version, whether fixes are spelt out, findings).
        self.findings: dict[str, tuple[int | None, bool, list[Finding]]] = {}
        # URI → the rules' hits on its last lint's containers and images (engine.CheckMemo).
        self.memos: dict[str, engine.CheckMemo] = {}
        # URI → the diagnostics of its last publish (DiagnosticMemo).
        self.diagnostic_memos: dict[str, DiagnosticMemo] = {}
        self.config_errors: set[str] = set()
        self.debounce = DEBOUNCE_SECONDS
        # The writer serve() gave pygls: while pygls still writes with it,
        # diagnostics are written to it straight from their JSON (publish_frame).
        self.output: StdoutWriter | None = None

    def is_open(self, uri: str) -> bool:
        return unquote(uri) in self.workspace.text_documents  # pygls keys them unquoted

    def cancel_pending(self, uri: str) -> None:
        handle = self.pending.pop(uri, None)
        if handle is not None:
            handle.cancel()

    def lint(self, uri: str, *, fixes: bool = False) -> list[Finding]:
        doc = self.workspace.get_text_document(uri)
        path = document_path(uri)
        try:
            found = lint_document(path, doc.source, settings_for(path), fixes=fixes,
                                  memo=self.memos.setdefault(uri, engine.CheckMemo()))
        except ConfigError as err:
            # Say so once per distinct problem, not on every keystroke, and
            # keep linting nothing until the file is fixed (as the CLI would refuse).
            if str(err) not in self.config_errors:
                self.config_errors.add(str(err))
                self.window_show_message(lsp.ShowMessageParams(lsp.MessageType.Error, f"caplint: {err}"))
            found = []
        except Exception:  # a linter bug must never take the editor's server down
            log.exception("caplint failed on %s", uri)
            found = []
        self.findings[uri] = (doc.version, fixes, found)
        return found

    def findings_for(self, uri: str) -> list[Finding]:
        """The findings of the document as it is now, each with its fix."""
        doc = self.workspace.get_text_document(uri)
        version, fixes, found = self.findings.get(uri, (None, False, None))
        if found is None or version != doc.version or not fixes:
            found = self.lint(uri, fixes=True)
        return found

    def publish(self, uri: str) -> None:
        self.pending.pop(uri, None)
        if not self.is_open(uri):
            return  # closed while the debounce was waiting
        doc = self.workspace.get_text_document(uri)
        found = self.lint(uri)
        lines = doc.source.replace("\r\n", "\n").split("\n")
        diagnostics = self.diagnostic_memos.setdefault(uri, DiagnosticMemo()).convert(
            found, lines, self.workspace.position_codec)
        output = self.output if self.protocol.writer is self.output else None
        if output is not None:
            output.write(publish_frame(uri, doc.version, [c.json for c in diagnostics]))
            log.debug("%d diagnostics for %s written from their JSON", len(diagnostics), uri)
        else:  # pygls's transport, not serve()'s
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
                uri=uri, version=doc.version, diagnostics=[c.diagnostic for c in diagnostics]))
            log.debug("%d diagnostics for %s sent through pygls", len(diagnostics), uri)

    def clear(self, uri: str) -> None:
        self.cancel_pending(uri)
        self.findings.pop(uri, None)
        self.memos.pop(uri, None)
        self.diagnostic_memos.pop(uri, None)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


server = CaplintServer()


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: CaplintServer, params: lsp.DidOpenTextDocumentParams) -> None:
    ls.publish(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: CaplintServer, params: lsp.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.cancel_pending(uri)
    if ls.debounce <= 0:
        ls.publish(uri)
        return
    ls.pending[uri] = asyncio.get_running_loop().call_later(ls.debounce, ls.publish, uri)


# Registered so that editors send didSave at all (Neovim only does when asked);
# the text is already in the workspace, so the client need not resend it.
@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE, lsp.SaveOptions(include_text=False))
def did_save(ls: CaplintServer, params: lsp.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.cancel_pending(uri)
    ls.publish(uri)  # a saved `.env` beside a Compose file can change the findings


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: CaplintServer, params: lsp.DidCloseTextDocumentParams) -> None:
    ls.clear(params.text_document.uri)


@server.feature(
    lsp.TEXT_DOCUMENT_CODE_ACTION,
    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]),
)
def code_action(ls: CaplintServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    if not ls.is_open(uri):
        return []
    doc = ls.workspace.get_text_document(uri)
    lines = doc.source.replace("\r\n", "\n").split("\n")
    codec = ls.workspace.position_codec
    actions = []
    for finding in ls.findings_for(uri):
        if finding.fix is None:
            continue
        diagnostic = to_diagnostic(finding, lines, codec)
        if _overlaps(diagnostic.range, params.range):
            actions.append(_quick_fix(ls, doc.uri, doc.version, finding.fix, diagnostic, lines, codec))
    return actions


def _overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    def key(p: lsp.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _quick_fix(ls: CaplintServer, uri: str, version: int | None, fix: Fix, diagnostic: lsp.Diagnostic,
               lines: Sequence[str], codec: PositionCodec) -> lsp.CodeAction:
    edits = [lsp.TextEdit(range=_edit_range(e.span, lines, codec), new_text=e.replacement) for e in fix.edits]
    versioned = ls.client_capabilities.workspace and ls.client_capabilities.workspace.workspace_edit \
        and ls.client_capabilities.workspace.workspace_edit.document_changes
    if versioned and version is not None:
        # A versioned edit is refused by the client if the buffer moved on.
        workspace_edit = lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(
            text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=list(edits))])
    else:
        workspace_edit = lsp.WorkspaceEdit(changes={uri: list(edits)})
    # The title says whether the fix changes what the container may do; only a
    # safe one is the editor's preferred (auto-applicable) action.
    return lsp.CodeAction(title=fix.label, kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                          is_preferred=fix.safe, edit=workspace_edit)


def _edit_range(span: Span, lines: Sequence[str], codec: PositionCodec) -> lsp.Range:
    """An edit's exact range (an insertion stays a point; past the last line is its end)."""

    def position(line: int, column: int) -> lsp.Position:
        if line > len(lines):
            return lsp.Position(len(lines) - 1, codec.client_num_units(lines[-1])) if lines else lsp.Position(0, 0)
        text = lines[line - 1]
        return lsp.Position(line - 1, codec.client_num_units(text[: max(column - 1, 0)]))

    return lsp.Range(position(span.line, span.column), position(span.end_line, span.end_column))


class PipeReader:
    """pygls's reader interface (`readline`, `readexactly`) over an asyncio
    stream, which the event loop fills as the pipe becomes readable: no thread
    hop per read, as pygls's stdin reader makes (four per message)."""

    # Stands for a line longer than the stream's limit: it cannot be a header,
    # and pygls's loop passes over such a line as it would over the long one.
    OVERLONG = b"(a line too long to be a header)\r\n"

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream

    async def readline(self) -> bytes:
        try:
            return await self.stream.readline()
        except ValueError:  # the stream dropped the overlong part; the rest comes as further lines
            return self.OVERLONG

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self.stream.readexactly(n)
        except asyncio.IncompleteReadError as err:  # the input ended inside a body: what there was, as a file read gives
            return err.partial


def reads_as_pipe(stdin: BinaryIO, stdout: BinaryIO) -> bool:
    """Whether stdin can be read by the event loop: a pipe or a socket (what
    editors give a server), not shared with stdout (reading it makes the file
    non-blocking, which would reach the server's writes to a socket used both
    ways), and not on Windows (whose event loop reads only overlapped pipes).
    A regular file or a terminal is read through pygls's threads."""
    if sys.platform == "win32":
        return False
    try:
        given, taken = os.fstat(stdin.fileno()), os.fstat(stdout.fileno())
    except (AttributeError, OSError, ValueError):  # no file descriptor (io.UnsupportedOperation is both)
        return False
    if not (stat.S_ISFIFO(given.st_mode) or stat.S_ISSOCK(given.st_mode)):
        return False
    return (given.st_dev, given.st_ino) != (taken.st_dev, taken.st_ino)


def serve(ls: LanguageServer, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Speaks LSP on stdin and stdout until the client says exit or closes
    stdin: pygls's message loop (`pygls.io_.run_async`) and writer, fed by a
    `PipeReader` when `reads_as_pipe`, else by pygls's own stdin reader, as
    `LanguageServer.start_io` would be."""
    from pygls import IS_WASM

    if IS_WASM:  # pygls runs a synchronous loop there
        ls.start_io(stdin, stdout)
        return
    writer = StdoutWriter(stdout)
    ls.protocol.set_writer(writer)
    if isinstance(ls, CaplintServer):
        ls.output = writer
    try:
        asyncio.run(_read_messages(ls, stdin, stdout))
    except BrokenPipeError:
        log.error("the client closed the connection; stopping")
    except (KeyboardInterrupt, SystemExit):  # `exit` from the client ends the loop with SystemExit
        pass
    finally:
        ls.shutdown()  # type: ignore[no-untyped-call]


async def _read_messages(ls: LanguageServer, stdin: BinaryIO, stdout: BinaryIO) -> None:
    from pygls.io_ import StdinAsyncReader, run_async

    reader: PipeReader | StdinAsyncReader | None = None
    transport = None
    if reads_as_pipe(stdin, stdout):
        stream = asyncio.StreamReader()
        try:
            transport, _ = await asyncio.get_running_loop().connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(stream), stdin)
            reader = PipeReader(stream)
            log.debug("reading stdin in the event loop")
        except (OSError, ValueError) as err:
            log.debug("stdin cannot be read in the event loop (%s)", err)
    if reader is None:
        reader = StdinAsyncReader(stdin, ls.thread_pool)
        log.debug("reading stdin through pygls's threads")
    try:
        # The loop stops at the end of input or on `exit`; nothing sets this event.
        await run_async(stop_event=threading.Event(), reader=reader, protocol=ls.protocol, logger=log,
                        error_handler=ls.report_server_error)
    finally:
        if transport is not None:
            transport.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="caplint lsp", description="The caplint language server (stdio).")
    parser.add_argument("--stdio", action="store_true", help="accepted for clients that pass it; stdio is the only transport")
    parser.add_argument("--debounce-ms", type=int, default=int(DEBOUNCE_SECONDS * 1000), metavar="MS",
                        help="wait this long after the last change before linting (default %(default)s; 0: lint every change)")
    parser.add_argument("--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="what to log on stderr (editors show it in their LSP log)")
    args = parser.parse_args(argv)
    if args.debounce_ms < 0:
        parser.error("--debounce-ms must be 0 or more")
    server.debounce = args.debounce_ms / 1000
    logging.basicConfig(stream=sys.stderr, level=args.log_level, format="caplint-lsp %(levelname)s %(name)s: %(message)s")
    # The protocol owns the real stdout; anything else printed by accident
    # (a stray print in a plugin rule) goes to stderr instead of corrupting it.
    protocol_out = sys.stdout.buffer
    sys.stdout = sys.stderr
    serve(server, sys.stdin.buffer, protocol_out)


if __name__ == "__main__":
    main()
