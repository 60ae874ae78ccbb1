"""The language server, end to end: pygls's LanguageClient drives a real
`caplint lsp` process (`python -m caplint lsp`) over stdio, the way an editor does."""
from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient
from pygls.workspace import PositionCodec

from caplint.lsp import document_path, lint_document, to_diagnostic, to_range
from caplint.model import Span

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 20.0  # per test: generous for a slow CI machine, never reached when things work

PRIVILEGED = """\
services:
  web:
    image: nginx:1.27
    ports: ["8080:80"]
    privileged: true
    cap_drop: [ALL]
    security_opt: [no-new-privileges:true]
"""

# A flow mapping puts a finding after non-ASCII text on the same line: `é` is
# one UTF-16 unit but two UTF-8 bytes; the whale is two UTF-16 units, four bytes.
NON_ASCII = """\
services:
  café🐳: {image: nginx, privileged: true, cap_drop: [ALL], security_opt: [no-new-privileges:true]}
"""
TRUE_AT = {"utf-32": 36, "utf-16": 37, "utf-8": 40}  # 0-based start of `true` in each encoding

MISSPELT = """\
services:
  proxy:
    image: traefik:v3.1
    cap_drop: [ALL]
    cap_add: ["NET_BIND_SERVCE"]
    security_opt: [no-new-privileges:true]
"""


class Client(LanguageClient):
    """Collects what the server publishes, per URI, in arrival order."""

    def __init__(self) -> None:
        super().__init__("caplint-tests", "0")
        self.published: dict[str, asyncio.Queue[lsp.PublishDiagnosticsParams]] = {}
        self.errors: list[Exception] = []
        self.messages: list[lsp.ShowMessageParams] = []

        @self.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)  # type: ignore[untyped-decorator]
        def on_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
            self.queue(params.uri).put_nowait(params)

        @self.feature(lsp.WINDOW_SHOW_MESSAGE)  # type: ignore[untyped-decorator]
        def on_message(params: lsp.ShowMessageParams) -> None:
            self.messages.append(params)

    def queue(self, uri: str) -> asyncio.Queue[lsp.PublishDiagnosticsParams]:
        return self.published.setdefault(uri, asyncio.Queue())

    async def next_publish(self, uri: str) -> lsp.PublishDiagnosticsParams:
        return await asyncio.wait_for(self.queue(uri).get(), timeout=10)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # Anything on the server's stdout that is not protocol lands here.
        self.errors.append(error)


@asynccontextmanager
async def session(encodings: list[str] | None, command: tuple[str, ...] = ("caplint", "lsp")
                  ) -> AsyncIterator[tuple[Client, lsp.InitializeResult]]:
    client = Client()
    await client.start_io(sys.executable, "-m", *command, cwd=str(ROOT))
    general = lsp.GeneralClientCapabilities(position_encodings=encodings) if encodings is not None else None
    capabilities = lsp.ClientCapabilities(
        general=general,
        workspace=lsp.WorkspaceClientCapabilities(workspace_edit=lsp.WorkspaceEditClientCapabilities(document_changes=True)),
    )
    result = await client.initialize_async(lsp.InitializeParams(capabilities=capabilities, process_id=None, root_uri=ROOT.as_uri()))
    client.initialized(lsp.InitializedParams())
    try:
        yield client, result
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await asyncio.wait_for(client.stop(), timeout=10)  # type: ignore[no-untyped-call]
        assert client.errors == []


def run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(body(), TIMEOUT))


def open_doc(client: Client, uri: str, text: str, language_id: str = "yaml", version: int = 0) -> None:
    # Neovim starts versions at 0 and names Compose files `yaml`.
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=uri, language_id=language_id, version=version, text=text)))


async def open_and_wait(client: Client, name: str, text: str, language_id: str = "yaml",
                        version: int = 0) -> tuple[str, lsp.PublishDiagnosticsParams]:
    """Open a document (a path under the repository, or an `untitled:` URI) and
    wait for what the server publishes for it."""
    uri = name if ":" in name else (ROOT / name).as_uri()
    open_doc(client, uri, text, language_id, version)
    return uri, await client.next_publish(uri)


def close(client: Client, uri: str) -> None:
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(uri=uri)))


def change(client: Client, uri: str, version: int, line: int, start: int, end: int, text: str) -> None:
    """An incremental change, the kind Neovim and VS Code send."""
    rng = lsp.Range(lsp.Position(line, start), lsp.Position(line, end))
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [lsp.TextDocumentContentChangePartial(range=rng, text=text)]))


def codes(params: lsp.PublishDiagnosticsParams) -> list[str]:
    return [str(d.code) for d in params.diagnostics]


def test_initialize_prefers_utf8_when_offered_and_registers_save_without_text() -> None:
    async def body() -> None:
        async with session(["utf-8", "utf-16", "utf-32"]) as (_, result):
            caps = result.capabilities
            assert caps.position_encoding == "utf-8"
            sync = caps.text_document_sync
            assert isinstance(sync, lsp.TextDocumentSyncOptions)
            assert sync.open_close is True
            assert sync.change == lsp.TextDocumentSyncKind.Incremental
            assert sync.save == lsp.SaveOptions(include_text=False)
            assert isinstance(caps.code_action_provider, lsp.CodeActionOptions)
            assert list(caps.code_action_provider.code_action_kinds or ()) == ["quickfix"]
            assert result.server_info is not None and result.server_info.name == "caplint"
    run(body)


@pytest.mark.parametrize("command", [("caplint", "lsp"), ("caplint.lsp",)])
def test_initialize_falls_back_to_utf16(command: tuple[str, ...]) -> None:
    async def body() -> None:
        async with session(None, command) as (_, result):
            assert result.capabilities.position_encoding == "utf-16"
    run(body)


def test_open_compose_publishes_the_finding_on_its_line() -> None:
    async def body() -> None:
        async with session(["utf-16"]) as (client, _):
            _, published = await open_and_wait(client, "compose.yaml", PRIVILEGED)
            assert published.version == 0
            [diag] = published.diagnostics
            assert diag.code == "CAP101"
            assert diag.source == "caplint"
            assert diag.severity == lsp.DiagnosticSeverity.Error
            assert diag.range == lsp.Range(lsp.Position(4, 16), lsp.Position(4, 20))  # `true` on line 5
            assert diag.code_description is not None
            assert diag.code_description.href.endswith("/rules/CAP101.md")
            assert "privileged" in diag.message
    run(body)


def test_incremental_change_is_debounced_and_lints_the_whole_document() -> None:
    async def body() -> None:
        async with session(["utf-8", "utf-16"]) as (client, _):
            uri, published = await open_and_wait(client, "deploy/docker-compose.prod.yml", PRIVILEGED)
            assert codes(published) == ["CAP101"]
            # Type `false` over `true` in three keystrokes; only the final text is linted.
            change(client, uri, 1, 4, 16, 20, "")
            change(client, uri, 2, 4, 16, 16, "fa")
            change(client, uri, 3, 4, 18, 18, "lse")
            published = await client.next_publish(uri)
            assert published.version == 3  # the intermediate versions were never published
            assert codes(published) == []
            # A change elsewhere that makes the file insecure again: the fragment
            # alone (`SYS_ADMIN`) means nothing; the whole document does.
            change(client, uri, 4, 5, 15, 18, "ALL]\n    cap_add: [SYS_ADMIN")
            published = await client.next_publish(uri)
            assert codes(published) == ["CAP202"]
            assert published.diagnostics[0].range.start == lsp.Position(6, 14)
    run(body)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_columns_on_a_non_ascii_line_follow_the_agreed_encoding(encoding: str) -> None:
    async def body() -> None:
        async with session([encoding]) as (client, result):
            assert result.capabilities.position_encoding == encoding
            [diag] = (await open_and_wait(client, "compose.yml", NON_ASCII))[1].diagnostics
            start = TRUE_AT[encoding]
            assert diag.range == lsp.Range(lsp.Position(1, start), lsp.Position(1, start + 4))
    run(body)


def test_close_clears_the_diagnostics() -> None:
    async def body() -> None:
        async with session(["utf-16"]) as (client, _):
            uri, published = await open_and_wait(client, "compose.yaml", PRIVILEGED)
            assert codes(published) == ["CAP101"]
            close(client, uri)
            assert codes(await client.next_publish(uri)) == []
    run(body)


def test_save_relints_and_a_close_during_the_debounce_publishes_nothing_stale() -> None:
    async def body() -> None:
        async with session(["utf-16"]) as (client, _):
            uri, _ = await open_and_wait(client, "compose.yaml", PRIVILEGED)
            change(client, uri, 1, 4, 16, 20, "false")
            client.text_document_did_save(lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(uri=uri)))
            saved = await client.next_publish(uri)  # at once, not after the debounce
            assert (saved.version, codes(saved)) == (1, [])
            change(client, uri, 2, 4, 16, 21, "true")
            close(client, uri)
            assert codes(await client.next_publish(uri)) == []
            # The pending lint was cancelled: the server's next answer is to a new open.
            open_doc(client, uri, NON_ASCII, version=7)
            assert (await client.next_publish(uri)).version == 7
    run(body)


def test_quick_fix_replaces_a_misspelt_capability() -> None:
    async def body() -> None:
        async with session(["utf-8", "utf-16"]) as (client, _):
            uri, published = await open_and_wait(client, "compose.yaml", MISSPELT)
            [diag] = published.diagnostics
            assert diag.code == "CAP205"
            actions = await client.text_document_code_action_async(lsp.CodeActionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                range=lsp.Range(lsp.Position(4, 20), lsp.Position(4, 20)),
                context=lsp.CodeActionContext(diagnostics=[diag], only=[lsp.CodeActionKind.QuickFix])))
            assert actions is not None
            [action] = actions
            assert isinstance(action, lsp.CodeAction)
            assert action.kind == lsp.CodeActionKind.QuickFix
            assert action.title == "Fix: replace NET_BIND_SERVCE with NET_BIND_SERVICE"
            assert action.is_preferred
            assert action.edit is not None and action.edit.document_changes is not None
            [doc_edit] = action.edit.document_changes
            assert isinstance(doc_edit, lsp.TextDocumentEdit)
            assert doc_edit.text_document.version == 0
            [edit] = doc_edit.edits
            assert isinstance(edit, lsp.TextEdit)
            # Inside the quotes: the author's quoting stays.
            assert edit.range == lsp.Range(lsp.Position(4, 15), lsp.Position(4, 30))
            assert edit.new_text == "NET_BIND_SERVICE"
            # No action away from the finding.
            elsewhere = await client.text_document_code_action_async(lsp.CodeActionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                range=lsp.Range(lsp.Position(1, 0), lsp.Position(1, 0)),
                context=lsp.CodeActionContext(diagnostics=[])))
            assert not elsewhere
    run(body)


def test_least_privilege_is_an_unsafe_code_action_with_the_edits_of_the_cli() -> None:
    """The README's worked example: the computed set, offered as a code action
    whose title says it is unsafe, with the very splice `--fix` writes."""
    name = "examples/least-privilege/compose.yaml"
    text = (ROOT / name).read_text(encoding="utf-8")

    async def body() -> None:
        async with session(["utf-16"]) as (client, _):
            uri, published = await open_and_wait(client, name, text)
            assert codes(published) == ["CAP204", "CAP304"]
            line = next(i for i, t in enumerate(text.splitlines()) if t == "  app:")
            actions = await client.text_document_code_action_async(lsp.CodeActionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                range=lsp.Range(lsp.Position(line, 3), lsp.Position(line, 3)),
                context=lsp.CodeActionContext(diagnostics=list(published.diagnostics))))
            assert actions is not None
            by_title = {a.title: a for a in actions if isinstance(a, lsp.CodeAction)}
            assert sorted(by_title) == ["Fix (unsafe): drop all capabilities, add CHOWN, SETGID, SETUID",
                                        "Fix (unsafe): set no-new-privileges"]
            action = by_title["Fix (unsafe): drop all capabilities, add CHOWN, SETGID, SETUID"]
            assert not action.is_preferred  # an editor must not apply it unasked
            assert action.edit is not None and action.edit.document_changes is not None
            [doc_edit] = action.edit.document_changes
            assert isinstance(doc_edit, lsp.TextDocumentEdit)
            [edit] = doc_edit.edits
            assert isinstance(edit, lsp.TextEdit)
            end = next(i for i, t in enumerate(text.splitlines()) if "app-data:/var/lib/app" in t)
            point = lsp.Position(end, len(text.splitlines()[end]))
            assert edit.range == lsp.Range(point, point)
            assert edit.new_text == "\n    cap_drop: [ALL]\n    cap_add: [CHOWN, SETGID, SETUID]"
    run(body)


def test_kind_comes_from_name_and_content_never_language_id() -> None:
    async def body() -> None:
        async with session(["utf-16"]) as (client, _):
            # An unsaved buffer: no file name, so the content decides.
            _, published = await open_and_wait(client, "untitled:Untitled-1", "FROM debian:12\nRUN chmod u+s /usr/bin/find\n",
                                               language_id="plaintext")
            assert codes(published) == ["CAP403", "CAP402"]
            # A shell script the editor calls `sh`.
            _, published = await open_and_wait(client, "scripts/run.sh", "#!/bin/sh\nexec docker run --rm --cap-drop=ALL "
                                               "--security-opt no-new-privileges --pid=host busybox top\n", language_id="sh")
            assert codes(published) == ["CAP305"]
            # Files caplint has no parser for get nothing, not a CAP001 "cannot tell".
            for name, text in (("notes.txt", "just some notes\n"),
                               (".github/workflows/ci.yml", "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n")):
                assert codes((await open_and_wait(client, name, text))[1]) == []
    run(body)


def test_broken_yaml_is_a_parse_error_diagnostic_not_a_crash() -> None:
    async def body() -> None:
        async with session(["utf-16"]) as (client, _):
            uri, published = await open_and_wait(client, "compose.yaml", "services:\n  web:\n    image: [nginx\n")
            [diag] = published.diagnostics
            assert diag.code == "CAP001"
            # The server is still alive and answering.
            change(client, uri, 1, 2, 11, 12, "")
            assert "CAP001" not in codes(await client.next_publish(uri))
    run(body)


def test_the_projects_config_applies_and_a_broken_one_is_said_once(tmp_path: Path) -> None:
    (tmp_path / ".caplint.toml").write_text(
        'ignore = ["CAP304"]\nseverity = { CAP306 = "high" }\nexclude = ["vendor/**"]\n', encoding="utf-8")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / ".caplint.toml").write_text('ignroe = ["CAP101"]\n', encoding="utf-8")
    host_network = "services:\n  dns:\n    image: coredns/coredns:1.11\n    network_mode: host\n    cap_drop: [ALL]\n"

    async def body() -> None:
        async with session(["utf-16"]) as (client, _):
            _, published = await open_and_wait(client, (tmp_path / "compose.yaml").as_uri(), host_network)
            [diag] = published.diagnostics  # CAP304 is off
            assert (diag.code, diag.severity) == ("CAP306", lsp.DiagnosticSeverity.Error)  # raised to high
            _, published = await open_and_wait(client, (tmp_path / "vendor" / "compose.yaml").as_uri(), PRIVILEGED)
            assert codes(published) == []  # excluded
            assert client.messages == []
            for n in range(2):
                _, published = await open_and_wait(client, (tmp_path / "broken" / f"compose{n}.yaml").as_uri(), PRIVILEGED)
                assert codes(published) == []
            [message] = client.messages  # once, not per document
            assert message.type == lsp.MessageType.Error
            assert "ignroe" in message.message and "broken" in message.message
    run(body)


# --- the conversions on their own -------------------------------------------------


def test_to_range_converts_code_points_per_encoding_and_stretches_points() -> None:
    lines = ["  café🐳: x", ""]
    span = Span("f", 1, 8, 1, 9)  # the colon after the whale
    assert to_range(span, lines, PositionCodec("utf-32")).start.character == 7
    assert to_range(span, lines, PositionCodec("utf-16")).start.character == 8
    assert to_range(span, lines, PositionCodec("utf-8")).start.character == 11
    point = to_range(Span.point("f", 1), lines, PositionCodec("utf-16"))
    assert point == lsp.Range(lsp.Position(0, 0), lsp.Position(0, 11))
    past_end = to_range(Span("f", 9, 1, 9, 4), lines, PositionCodec("utf-16"))
    assert past_end.start.line == 1  # clamped to the document, never out of range


def test_document_path_handles_files_and_unsaved_buffers() -> None:
    assert document_path("file:///srv/app/docker-compose%20prod.yml") == "/srv/app/docker-compose prod.yml"
    assert document_path("untitled:Untitled-1") == "Untitled-1"
    assert lint_document("README", "no idea what this is\n") == []
    assert [f.rule_id for f in lint_document("compose.yml", PRIVILEGED.replace("\n", "\r\n"))] == ["CAP101"]


@pytest.mark.parametrize(("name", "language_id", "text", "position"), [
    # VS Code opens devcontainer.json as `jsonc`, Neovim as `jsonc` or `json`.
    (".devcontainer/devcontainer.json", "jsonc", '{\n  // dev\n  "runArgs": ["--privileged"],\n}\n', (2, 15)),
    # The GitHub Actions extension's language id; other editors say `yaml`.
    (".github/workflows/ci.yml", "github-actions-workflow",
     "jobs:\n  t:\n    steps:\n      - run: |\n          docker run --privileged x\n", (4, 21)),
])
def test_devcontainer_and_workflow_buffers_get_diagnostics(name: str, language_id: str, text: str,
                                                          position: tuple[int, int]) -> None:
    async def body() -> None:
        async with session(["utf-16"]) as (client, _):
            _, published = await open_and_wait(client, name, text, language_id)
            privileged = [d for d in published.diagnostics if d.code == "CAP101"]
            assert [(d.range.start.line, d.range.start.character) for d in privileged] == [position]
    run(body)

def test_a_diagnostic_says_the_fix() -> None:
    text = "services:\n  web:\n    image: nginx\n    cap_drop: [ALL]\n    security_opt: [no-new-privileges]\n    pid: host\n"
    (finding,) = lint_document("compose.yaml", text)
    diag = to_diagnostic(finding, text.split("\n"), PositionCodec("utf-16"))
    message, fix = diag.message.split("\n")
    assert message == finding.message
    assert fix == f"fix: {finding.advice}" and "remove `pid: host`" in fix
    assert diag.code_description is not None and diag.code_description.href.endswith("/rules/CAP305.md")
