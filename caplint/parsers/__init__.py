"""Parsers: one module per input kind, each `parse(text, path) -> ParseResult`."""
