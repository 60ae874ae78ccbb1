"""The command line: argument handling and exit codes only; the work is elsewhere.

Exit codes: 0 no findings at or above --fail-on, 1 findings at or above it,
2 usage or configuration error.
"""
from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:
    from caplint.engine import Settings
    from caplint.model import Finding, Severity
    from caplint.report import Renderer

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


def _usable_cores() -> int:
    """Cores this process may run on: in a CPU-limited container that is fewer
    than os.cpu_count(), and more workers than cores only adds overhead."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _use_color(output: Optional[str], color: Optional[bool]) -> bool:
    if color is not None:
        return color  # an explicit flag beats the environment
    if output or os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


def _default_format(output: Optional[str]) -> str:
    """`github` annotations when run by GitHub Actions into a log, else `text`.

    Like yamllint: a workflow step (or a pre-commit hook inside one) gets inline
    annotations without configuration, while a person at a terminal, or anyone
    writing --output, still gets text.
    """
    if os.environ.get("GITHUB_ACTIONS") == "true" and output is None and not sys.stdout.isatty():
        return "github"
    return "text"


@app.command()
def check(
    paths: list[str] = typer.Argument(None, help="Files or folders to lint (default: .); '-' reads stdin."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", show_default=False,
                                      help="text, json, sarif, gnu or github [default: text; github under GitHub Actions]."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    select: Optional[list[str]] = typer.Option(None, help="Only these rules or prefixes (CAP2,CAP301), instead of the config's select."),
    ignore: Optional[list[str]] = typer.Option(None, help="Skip these rules or prefixes, instead of the config's ignore."),
    extend_select: Optional[list[str]] = typer.Option(None, "--extend-select",
                                                      help="Add these rules or prefixes to the selection (the config's "
                                                           "or --select's); an id named here is no longer ignored."),
    extend_ignore: Optional[list[str]] = typer.Option(None, "--extend-ignore",
                                                      help="Skip these rules or prefixes as well as the config's "
                                                           "(or --ignore's)."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", show_default=False,
                                          help="Exit 1 on findings of this severity or worse: low, medium, high, critical [default: medium]."),
    stdin_filename: Optional[str] = typer.Option(None, "--stdin-filename", help="The name of the file read from stdin ('-')."),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Processes for a directory scan (0: one per core)."),
    max_file_size: Optional[int] = typer.Option(None, "--max-file-size", help="Skip files larger than this many bytes (default 5 MiB)."),
    config_file: Optional[str] = typer.Option(None, "--config", help="Use this config file instead of looking for one."),
    baseline_file: Optional[str] = typer.Option(None, "--baseline", help="Report only findings not recorded in this baseline."),
    write_baseline: Optional[str] = typer.Option(None, "--write-baseline", help="Record every current finding in this file and exit 0."),
    sarif_category: Optional[str] = typer.Option(None, "--sarif-category", help="SARIF runAutomationDetails id, for several caplint uploads per commit."),
    color: Optional[bool] = typer.Option(None, "--color/--no-color", show_default=False, help="Colour the text report [default: on a terminal, unless NO_COLOR]."),
    show_all: bool = typer.Option(False, "--show-all",
                                  help="Text report: print low findings in full too, not in brief (every other "
                                       "format always carries every finding)."),
    quiet: bool = typer.Option(False, "--quiet", "-q",
                               help="Print only the summary line (a report for --output is still written); "
                                    "the exit code is unchanged."),
    statistics: bool = typer.Option(False, "--statistics",
                                    help="Print how many findings each rule has instead of the findings "
                                         "(as text, or JSON with --format json)."),
    exit_zero: bool = typer.Option(False, "--exit-zero",
                                   help="Exit 0 even when findings reach --fail-on (usage errors still exit 2)."),
) -> None:
    """Lint files and folders for dangerous container privileges."""
    from caplint import report
    from caplint.model import Severity

    paths = paths or ["."]
    stdin = "-" in paths
    if stdin and paths != ["-"]:
        raise _fail_usage("'-' (stdin) cannot be combined with other paths")
    missing = [p for p in paths if p != "-" and not os.path.lexists(p)]
    if missing:
        raise _fail_usage(f"no such file or directory: {', '.join(missing)}")
    settings, cfg_fail_on = _settings(
        start=(stdin_filename or ".") if stdin else paths[0], config_file=config_file,
        select=select, ignore=ignore, extend_select=extend_select, extend_ignore=extend_ignore,
        max_file_size=max_file_size,
    )
    try:
        threshold = Severity.parse(fail_on) if fail_on else cfg_fail_on or Severity.MEDIUM
        render = _statistics_renderer(fmt, quiet) if statistics else _renderer(fmt, output)
    except ValueError as err:
        raise _fail_usage(str(err)) from None
    recorded = _load_baseline(baseline_file) if baseline_file and not write_baseline else None

    if stdin:
        findings, linted = _lint_stdin(stdin_filename or "stdin", settings)
    else:
        findings, linted = _lint_paths(paths, settings, jobs)

    if write_baseline:
        from caplint.baseline import BaselineError, write

        try:
            write(write_baseline, findings)
        except BaselineError as err:
            raise _fail_usage(str(err)) from None
        typer.echo(f"caplint: recorded {len(findings)} findings in {write_baseline}", err=True)
        raise typer.Exit(EXIT_CLEAN)
    if recorded is not None:
        findings = _without_baselined(findings, recorded, linted, baseline_file or "")

    from caplint.registry import all_rules

    context = report.Context(rules=all_rules(), files=len(linted), color=_use_color(output, color),
                             sarif_category=sarif_category, show_all=show_all)
    _emit(render(findings, context), output, _summary(findings, len(linted)) if quiet else None)
    failed = any(f.severity >= threshold for f in findings)
    raise typer.Exit(EXIT_FINDINGS if failed and not exit_zero else EXIT_CLEAN)


def _emit(text: str, output: Optional[str], summary: Optional[str]) -> None:
    """The report to --output or stdout; with `summary` (--quiet) stdout gets only that line."""
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as err:
            raise _fail_usage(f"cannot write {output}: {err.strerror}") from None
    if summary is not None:
        typer.echo(summary)
    elif not output:
        sys.stdout.write(text)


def _summary(findings: list[Finding], files: int) -> str:
    from caplint.report.text import summary

    return summary(findings, files)


def _statistics_renderer(fmt: Optional[str], quiet: bool) -> Renderer:
    from caplint.report import statistics

    if quiet:
        raise ValueError("--quiet and --statistics cannot be combined")
    return statistics.renderer(fmt or "text")


def _settings(*, start: str, config_file: Optional[str], select: Optional[list[str]],
              ignore: Optional[list[str]], extend_select: Optional[list[str]], extend_ignore: Optional[list[str]],
              max_file_size: Optional[int]) -> tuple[Settings, Optional[Severity]]:
    """The config file's choices with the command line on top: --select and
    --ignore replace the config's lists, --extend-select and --extend-ignore add to them."""
    from caplint import engine
    from caplint.config import ConfigError, discover_config, unknown_code
    from caplint.registry import RuleLoadError, all_rules

    try:
        known = {r.id for r in all_rules()}
        cfg = discover_config(start, known, config_file)
    except (RuleLoadError, ConfigError) as err:
        raise _fail_usage(str(err)) from None
    bad = unknown_code(_codes(select) | _codes(ignore) | _codes(extend_select) | _codes(extend_ignore), known)
    if bad is not None:
        raise _fail_usage(f"unknown rule or prefix {bad!r} (see 'caplint rules')")
    if max_file_size is not None and max_file_size <= 0:
        raise _fail_usage("--max-file-size must be a positive number of bytes")
    settings = engine.settings_from(cfg, select=_codes(select) or None, ignore=_codes(ignore) if ignore else None,
                                    extend_select=_codes(extend_select), extend_ignore=_codes(extend_ignore),
                                    max_bytes=max_file_size)
    return settings, cfg.fail_on


def _renderer(fmt: Optional[str], output: Optional[str]) -> Renderer:
    from caplint import report

    chosen = fmt or _default_format(output)
    try:
        return report.renderer(chosen)
    except ImportError:
        if fmt is None:
            return report.renderer("text")
        raise ValueError(f"the {chosen!r} format is not available in this installation") from None


def _lint_stdin(name: str, settings: Settings) -> tuple[list[Finding], list[str]]:
    """The buffer an editor sends, linted as if it were the file `name`."""
    from caplint import engine
    from caplint.reading import ReadError, decode

    data = sys.stdin.buffer.read()
    if settings.excludes(name):
        return [], []
    try:
        return engine.lint_text(name, decode(data, name), None, settings), [name]
    except ReadError as err:
        return engine.problem_findings([err.problem], "", settings, name), [name]


def _lint_paths(paths: list[str], settings: Settings, jobs: int) -> tuple[list[Finding], list[str]]:
    from caplint import parallel
    from caplint.discover import discover

    found = [f for f in discover(paths, settings.exclude) if not settings.excludes(f.path)]
    workers = jobs if jobs > 0 else _usable_cores()
    return parallel.lint_found(found, settings, jobs=workers), [f.path for f in found]


def _load_baseline(path: str) -> frozenset[tuple[str, str]]:
    from caplint.baseline import BaselineError, load

    try:
        return load(path)
    except BaselineError as err:
        raise _fail_usage(str(err)) from None


def _without_baselined(findings: list[Finding], recorded: frozenset[tuple[str, str]], linted: list[str],
                       path: str) -> list[Finding]:
    from caplint.baseline import apply

    result = apply(findings, recorded, linted)
    notes = []
    if result.known:
        notes.append(f"{result.known} known finding{'s' if result.known != 1 else ''} hidden by the baseline {path}")
    if result.stale:
        notes.append(f"{result.stale} baseline entr{'ies' if result.stale != 1 else 'y'} no longer found "
                     "(fixed? rewrite it with --write-baseline)")
    if notes:
        typer.echo(f"caplint: {'; '.join(notes)}", err=True)
    return result.new


@app.command("rules")
def list_rules(fmt: str = typer.Option("text", "--format", "-f", help="text or json.")) -> None:
    """List every rule with its severity."""
    from caplint.registry import all_rules

    if fmt == "json":
        from caplint.report.json import rules_document

        typer.echo(rules_document(all_rules()), nl=False)
        return
    if fmt != "text":
        raise _fail_usage(f"unknown format {fmt!r} for 'caplint rules' (choose from text, json)")
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
def caps(
    paths: list[str] = typer.Argument(None, help="Files or folders (default: .)."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
    runtime: Optional[str] = typer.Option(None, "--runtime", show_default=False,
                                          help="docker, podman or nerdctl for Compose [default: the config's, else docker]."),
) -> None:
    """Print each container's effective capability set, where each capability came
    from, and the capabilities it needs, with the evidence."""
    from caplint.config import RUNTIMES
    from caplint.effective import describe_paths, json_paths

    if fmt not in ("text", "json"):
        raise _fail_usage(f"unknown format {fmt!r} for caps (choose from text, json)")
    if runtime is not None and runtime not in RUNTIMES:
        raise _fail_usage(f"unknown runtime {runtime!r} (choose from {', '.join(RUNTIMES)})")
    paths = paths or ["."]
    missing = [p for p in paths if not os.path.lexists(p)]
    if missing:
        raise _fail_usage(f"no such file or directory: {', '.join(missing)}")
    if runtime is None:
        settings, _ = _settings(start=paths[0], config_file=None, select=None, ignore=None, extend_select=None,
                                extend_ignore=None, max_file_size=None)
        runtime = settings.runtime
    render = json_paths if fmt == "json" else describe_paths
    typer.echo(render(paths, runtime), nl=False)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def lsp(ctx: typer.Context) -> None:
    """Run the language server on stdin/stdout, for editors (options: --stdio, --log-level)."""
    try:
        from caplint import lsp as server
    except ImportError as err:
        raise _fail_usage(f"the language server is not available in this installation ({err})") from None
    # The server owns its options, so they are handed on as written.
    server.main(list(ctx.args))


def main() -> None:
    app()
