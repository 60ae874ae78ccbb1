"""The command line: argument handling and exit codes only; the work is elsewhere.

Exit codes: 0 no findings at or above --fail-on, 1 findings at or above it,
2 usage or configuration error.
"""
from __future__ import annotations

import os
import sys
from typing import Optional

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="caplint: a static linter for container privileges in Dockerfiles, Compose files and shell scripts.",
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _fail_usage(message: str) -> typer.Exit:
    typer.echo(f"caplint: error: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


def _codes(values: Optional[list[str]]) -> frozenset[str]:
    """`--select CAP1,CAP202 --select CAP3` → {CAP1, CAP202, CAP3}."""
    return frozenset(c.strip().upper() for v in values or () for c in v.split(",") if c.strip())


def _use_color(output: Optional[str]) -> bool:
    if output or os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


@app.command()
def check(
    paths: list[str] = typer.Argument(None, help="Files or folders to lint (default: .); '-' reads stdin."),
    fmt: str = typer.Option("text", "--format", "-f", help="text, json, sarif, gnu or github."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    select: Optional[list[str]] = typer.Option(None, help="Only these rules or prefixes (CAP2,CAP301)."),
    ignore: Optional[list[str]] = typer.Option(None, help="Skip these rules or prefixes."),
    fail_on: str = typer.Option("medium", "--fail-on", help="Exit 1 on findings of this severity or worse: low, medium, high, critical."),
    stdin_filename: Optional[str] = typer.Option(None, "--stdin-filename", help="The name of the file read from stdin ('-')."),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Processes for a directory scan (0: one per core)."),
    max_file_size: Optional[int] = typer.Option(None, "--max-file-size", help="Skip files larger than this many bytes (default 5 MiB)."),
) -> None:
    """Lint files and folders for dangerous container privileges."""
    from caplint import engine, report
    from caplint.model import Severity
    from caplint.registry import RuleLoadError, all_rules

    try:
        threshold = Severity.parse(fail_on)
        render = report.renderer(fmt)
        rules = all_rules()
    except (ValueError, RuleLoadError) as err:
        raise _fail_usage(str(err)) from None
    known = {r.id for r in rules}
    for code in _codes(select) | _codes(ignore):
        if not any(rid.startswith(code) for rid in known):
            raise _fail_usage(f"unknown rule or prefix {code!r} (see 'caplint rules')")
    settings = engine.Settings(
        select=_codes(select) or None,
        ignore=_codes(ignore),
        **({"max_bytes": max_file_size} if max_file_size else {}),
    )
    paths = paths or ["."]
    if "-" in paths:
        if paths != ["-"]:
            raise _fail_usage("'-' (stdin) cannot be combined with other paths")
        from caplint.reading import ReadError, decode

        name = stdin_filename or "stdin"
        try:
            findings = engine.lint_text(name, decode(sys.stdin.buffer.read(), name), None, settings)
        except ReadError as err:
            findings = engine.problem_findings([err.problem], "", settings, name)
        files = 1
    else:
        missing = [p for p in paths if not os.path.lexists(p)]
        if missing:
            raise _fail_usage(f"no such file or directory: {', '.join(missing)}")
        from caplint.discover import discover

        found = list(discover(paths))
        files = len(found)
        workers = jobs if jobs > 0 else (os.cpu_count() or 1)
        findings = engine.lint_found(found, settings, jobs=workers)
    text = render(findings, report.Context(rules=rules, files=files, color=_use_color(output)))
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as err:
            raise _fail_usage(f"cannot write {output}: {err.strerror}") from None
    else:
        sys.stdout.write(text)
    raise typer.Exit(EXIT_FINDINGS if any(f.severity >= threshold for f in findings) else EXIT_CLEAN)


@app.command("rules")
def list_rules() -> None:
    """List every rule with its severity."""
    from caplint.registry import all_rules

    for r in all_rules():
        typer.echo(f"{r.id}  {r.severity.label:<8}  {r.name:<28}  {r.summary}")


@app.command()
def explain(rule_id: str = typer.Argument(..., help="A rule id such as CAP202.")) -> None:
    """Print a rule's documentation."""
    from caplint.docs import rule_page
    from caplint.registry import by_id

    rule = by_id().get(rule_id.strip().upper())
    if rule is None:
        raise _fail_usage(f"unknown rule {rule_id!r} (see 'caplint rules')")
    typer.echo(rule_page(rule))


@app.command()
def caps(paths: list[str] = typer.Argument(None, help="Files or folders (default: .).")) -> None:
    """Print each container's effective capability set and where each capability came from."""
    from caplint.effective import describe_paths

    typer.echo(describe_paths(paths or ["."]), nl=False)


def main() -> None:
    app()
