"""The server converts findings to diagnostics through a memo kept per
document (`caplint.lsp.DiagnosticMemo`): whatever the edits and the position
encoding, what it gives must equal a fresh conversion, and what an edit left
alone must be reused, not converted again. It writes the notification from
the diagnostics' memoized JSON (`publish_frame`): that must be the message
pygls would have written."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp
from pygls.io_ import StdoutWriter
from pygls.protocol import default_converter
from pygls.workspace import PositionCodec

from caplint import engine
from caplint.lsp import CaplintServer, Converted, DiagnosticMemo, lint_document, publish_frame, to_diagnostic
from conftest import FIXTURES

DOCUMENTS = sorted(
    [p for p in (FIXTURES / "compose").rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml")]
    + [FIXTURES / "dockerfile" / name for name in ("Dockerfile", "api.Dockerfile")]
)
# Lines that add findings, move the others, or put non-ASCII text before a
# finding's column (where the encodings count differently).
POOL = sorted({
    "    privileged: true", "    cap_add: [SYS_ADMIN]", "", "# a comment",
    "  café🐳: {image: nginx, privileged: true, cap_drop: [ALL]}", "  web:", "    image: nginx:1.27",
    "    network_mode: host", "      - /var/run/docker.sock:/var/run/docker.sock", "USER root",
    "RUN chmod u+s /bin/ping  # ünïcode", "    pid: host",
})
CONVERTER = default_converter()  # what pygls unstructures its messages with
ENCODINGS = [lsp.PositionEncodingKind.Utf8, lsp.PositionEncodingKind.Utf16, lsp.PositionEncodingKind.Utf32]
edit = st.tuples(st.sampled_from(("replace", "insert", "delete")), st.integers(0, 400), st.sampled_from(POOL),
                 st.sampled_from(ENCODINGS))


def fresh(found: list[object], lines: list[str], codec: PositionCodec) -> list[lsp.Diagnostic]:
    return [to_diagnostic(f, lines, codec) for f in found]  # type: ignore[arg-type]


def diagnostics(converted: list[Converted]) -> list[lsp.Diagnostic]:
    """The diagnostics, each checked against its JSON."""
    out = [c.diagnostic for c in converted]
    assert [json.loads(c.json) for c in converted] == [CONVERTER.unstructure(d) for d in out]
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(DOCUMENTS), st.lists(edit, min_size=1, max_size=8))
def test_the_memo_equals_a_fresh_conversion_after_any_edits(document: Path,
                                                           edits: list[tuple[str, int, str, str]]) -> None:
    path = str(document)
    lines = document.read_text(encoding="utf-8").split("\n")
    memo, checks = DiagnosticMemo(), engine.CheckMemo()
    codec = PositionCodec(ENCODINGS[1])
    found = lint_document(path, "\n".join(lines), memo=checks)
    assert diagnostics(memo.convert(found, lines, codec)) == fresh(found, lines, codec)
    for op, at, line, encoding in edits:
        at %= len(lines) + 1
        if op == "insert" or at == len(lines):
            lines.insert(at, line)
        elif op == "replace":
            lines[at] = line
        elif len(lines) > 1:
            del lines[at]
        codec = PositionCodec(encoding)
        found = lint_document(path, "\n".join(lines), memo=checks)
        assert diagnostics(memo.convert(found, lines, codec)) == fresh(found, lines, codec)


COMPOSE = """\
services:
  web:
    image: nginx:1.27
    privileged: true
  db:
    image: postgres:16
    privileged: true
"""


def _convert(memo: DiagnosticMemo, text: str, codec: PositionCodec) -> list[lsp.Diagnostic]:
    lines = text.split("\n")
    found = lint_document("/project/compose.yaml", text)
    converted = diagnostics(memo.convert(found, lines, codec))
    assert converted == fresh(found, lines, codec)
    return converted


def _privileged(diagnostics: list[lsp.Diagnostic]) -> list[lsp.Diagnostic]:
    return [d for d in diagnostics if d.code == "CAP101"]


def test_what_an_edit_left_alone_is_reused_and_what_it_moved_is_not() -> None:
    memo, codec = DiagnosticMemo(), PositionCodec(lsp.PositionEncodingKind.Utf16)
    web, db = _privileged(_convert(memo, COMPOSE, codec))
    # An edit inside `db`: web's diagnostic is the same object; db's is new, on its new line.
    edited = COMPOSE.replace("postgres:16", "postgres:17")
    web_again, db_again = _privileged(_convert(memo, edited, codec))
    assert web_again is web and db_again == db and db_again is not None
    # A line inserted above both moves them: converted again, one line down.
    moved = "# the stack\n" + edited
    web_moved, db_moved = _privileged(_convert(memo, moved, codec))
    assert web_moved is not web and (web_moved.range.start.line, db_moved.range.start.line) == (4, 7)


def test_a_change_of_encoding_or_of_the_text_before_the_column_converts_again() -> None:
    text = "services:\n  café🐳: {image: nginx, privileged: true, cap_drop: [ALL]}\n"
    memo = DiagnosticMemo()
    starts = {}
    for encoding in ENCODINGS:
        [diagnostic] = _privileged(_convert(memo, text, PositionCodec(encoding)))
        starts[encoding] = diagnostic.range.start.character
    assert starts == {lsp.PositionEncodingKind.Utf8: 40, lsp.PositionEncodingKind.Utf16: 37,
                      lsp.PositionEncodingKind.Utf32: 36}
    # The same finding at the same code-point column, after a non-ASCII
    # character before it on its line became ASCII: one UTF-8 byte less.
    utf8 = PositionCodec(lsp.PositionEncodingKind.Utf8)
    line = '  web: {labels: {a: "%s"}, image: nginx, privileged: true}\n'
    [accented] = _privileged(_convert(memo, "services:\n" + line % "é", utf8))
    [plain] = _privileged(_convert(memo, "services:\n" + line % "e", utf8))
    assert accented.message == plain.message
    assert (accented.range.start.character, plain.range.start.character) == (53, 52)


def test_only_the_last_publish_is_kept() -> None:
    memo, codec = DiagnosticMemo(), PositionCodec(lsp.PositionEncodingKind.Utf16)
    _convert(memo, COMPOSE, codec)
    _convert(memo, "services:\n  web:\n    image: nginx:1.27\n", codec)
    assert len(memo.last) == len(lint_document("/project/compose.yaml", "services:\n  web:\n    image: nginx:1.27\n"))


def _pygls_body(params: lsp.PublishDiagnosticsParams) -> object:
    return CONVERTER.unstructure(lsp.PublishDiagnosticsNotification(params=params))


def test_the_frame_is_the_message_pygls_would_write() -> None:
    text = COMPOSE + "  café🐳: {image: nginx, privileged: true}\n"
    lines = text.split("\n")
    found = lint_document("/project/compose.yaml", text)
    converted = DiagnosticMemo().convert(found, lines, PositionCodec(lsp.PositionEncodingKind.Utf16))
    uri = "file:///project/%C3%A9/compose.yaml"
    for version, items in ((7, converted), (None, converted), (0, [])):
        frame = publish_frame(uri, version, [c.json for c in items])
        header, _, body = frame.partition(b"\r\n\r\n")
        assert header.split(b"\r\n") == [b"Content-Length: %d" % len(body),
                                          b"Content-Type: application/vscode-jsonrpc; charset=utf-8"]
        params = lsp.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=[c.diagnostic for c in items])
        assert json.loads(body) == _pygls_body(params)
        assert body.isascii()  # as pygls writes it: non-ASCII text escaped


def _messages(data: bytes) -> list[object]:
    out = []
    while data:
        header, _, rest = data.partition(b"\r\n\r\n")
        length = int(header.split(b"\r\n")[0].split(b":")[1])
        out.append(json.loads(rest[:length]))
        data = rest[length:]
    return out


def test_the_server_publishes_the_same_message_either_way(tmp_path: Path) -> None:
    # A server of its own, initialized in process; pygls writes to `sink`.
    ls = CaplintServer()
    with contextlib.suppress(StopIteration):
        next(ls.protocol.lsp_initialize(lsp.InitializeParams(capabilities=lsp.ClientCapabilities())))
    (tmp_path / ".git").mkdir()
    uri = (tmp_path / "compose.yaml").as_uri()
    ls.workspace.put_text_document(lsp.TextDocumentItem(uri=uri, language_id="yaml", version=3, text=COMPOSE))
    sink = io.BytesIO()
    writer = StdoutWriter(sink)
    ls.protocol.set_writer(writer)
    ls.publish(uri)  # serve() has not given this writer: through pygls
    through_pygls = sink.getvalue()
    sink.seek(0)
    sink.truncate()
    ls.output = writer  # as serve() does
    ls.publish(uri)
    assert sink.getvalue() != through_pygls  # written by the server itself (pygls orders the keys otherwise)
    [message] = _messages(sink.getvalue())
    assert _messages(through_pygls) == [message]
    assert [d["code"] for d in message["params"]["diagnostics"]] == ["CAP101", "CAP101"]  # type: ignore[index]
