"""The protocol floor: a pygls server, as pygls ships it (its stdio reader, its
cattrs serialisation), that lints nothing. On every didOpen and didChange it
publishes the same diagnostics, read once from the JSON file named on the
command line (bench/lsp_latency.py writes there what caplint published for
the measured document: the same number, of the same shape). Its
didChange → publishDiagnostics is what any pygls server pays before doing
any work of its own.

    python bench/lsp_noop_server.py DIAGNOSTICS.json [--caplint-reader]

`--caplint-reader` serves through `caplint.lsp.serve` (stdin read in the
event loop) instead of pygls's `start_io`: the floor caplint's transport has.
"""
from __future__ import annotations

import json
import sys

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.protocol import default_converter

server = LanguageServer("noop", "0")
diagnostics: list[lsp.Diagnostic] = []


def publish(ls: LanguageServer, uri: str, version: int) -> None:
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics))


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
    publish(ls, params.text_document.uri, params.text_document.version)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
    # pygls has applied the change to its workspace document before calling this, as for caplint.
    publish(ls, params.text_document.uri, params.text_document.version)


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        diagnostics.extend(default_converter().structure(json.load(f), list[lsp.Diagnostic]))
    if "--caplint-reader" in sys.argv[2:]:
        from caplint.lsp import serve

        serve(server, sys.stdin.buffer, sys.stdout.buffer)
    else:
        server.start_io()


if __name__ == "__main__":
    main()
