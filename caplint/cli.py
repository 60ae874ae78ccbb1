"""The command line: argument handling and exit codes only; the work is elsewhere.

Exit codes: 0 no findings at or above --fail-on, 1 findings at or above it,
2 usage or configuration error.
"""
import os
import sys
from typing import TYPE_CHECKING, Literal, Optional

import typer

from caplint import __version__

if TYPE_CHECKING:
    from caplint.discover import Found
    from caplint.engine import Settings
    from caplint.model import Finding
    from caplint.report import Renderer
    from caplint.settings import Resolver

_TYPER = {
    "add_completion": False,
    "no_args_is_help": True,
    "help": "caplint: a static linter for container privileges in Dockerfiles, Compose files and shell scripts.",
    "context_settings": {"help_option_names": ["-h", "--help"]},
    # Help texts are plain text: rich markup would swallow "[default: …]" as a tag.
    "rich_markup_mode": None,
}
# The app with `check`, the command editors and hooks run; `caplint.commands`
# adds the others when one of them runs or the whole app is shown (`app`).
base_app = typer.Typer(**_TYPER)  # type: ignore[arg-type]

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

# Choices as typer shows them in `-h`. Kept here, not built from caplint.report
# and caplint.model, so `-h` stays cheap; a test checks that they agree.
# As Literal types, not Enums: typer shows and checks them the same way, and
# creating an Enum class costs more at start-up than everything else here.
FormatChoice = Literal["text", "json", "sarif", "gnu", "github"]
SeverityChoice = Literal["low", "medium", "high", "critical"]


def _fail_usage(message: str) -> typer.Exit:
    typer.echo(f"caplint: error: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


def _warn(message: str) -> None:
    typer.echo(f"caplint: warning: {message}", err=True)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"caplint {__version__}")
        raise typer.Exit(EXIT_CLEAN)


@base_app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print caplint's version and exit."),
) -> None:
    return None  # the options act through their callbacks; the help text is the Typer's


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


def _check_paths(paths: Optional[list[str]], stdin_filename: Optional[str]) -> tuple[list[str], bool]:
    """The paths as given (default `.`) and whether `-` asks for stdin; exits 2
    on a path that does not exist. Shared by every command that takes paths."""
    paths = paths or ["."]
    stdin = "-" in paths
    if stdin and paths != ["-"]:
        raise _fail_usage("'-' (stdin) cannot be combined with other paths")
    missing = [p for p in paths if p != "-" and not os.path.lexists(p)]
    if missing:
        raise _fail_usage(f"no such file or directory: {', '.join(missing)}")
    if stdin_filename is not None and not stdin:
        _warn("--stdin-filename has no effect without '-' (read stdin) among the paths")
    return paths, stdin


@base_app.command()
def check(
    paths: list[str] = typer.Argument(None, help="Files or folders to lint (default: .); '-' reads stdin."),
    format_choice: Optional[FormatChoice] = typer.Option(None, "--format", "-f", show_default=False,
                                                         help="Report format [default: text; github under GitHub "
                                                              "Actions when stdout is not a terminal]."),
    output: Optional[str] = typer.Option(None, "--output", "-o",
                                         help="Write the report to this file (the summary line goes to stderr)."),
    select: Optional[list[str]] = typer.Option(None, help="Only these rules or prefixes (CAP2,CAP301), instead of the config's select."),
    ignore: Optional[list[str]] = typer.Option(None, help="Skip these rules or prefixes, instead of the config's ignore."),
    extend_select: Optional[list[str]] = typer.Option(None, "--extend-select",
                                                      help="Add these rules or prefixes to the selection (the config's "
                                                           "or --select's); an id named here is no longer ignored."),
    extend_ignore: Optional[list[str]] = typer.Option(None, "--extend-ignore",
                                                      help="Skip these rules or prefixes as well as the config's "
                                                           "(or --ignore's)."),
    fail_on_choice: Optional[SeverityChoice] = typer.Option(None, "--fail-on", show_default=False,
                                                            case_sensitive=False,
                                                            help="Exit 1 on findings of this severity or worse "
                                                                 "[default: the config's fail-on, else medium]."),
    stdin_filename: Optional[str] = typer.Option(None, "--stdin-filename", help="The name of the file read from stdin ('-')."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Processes for a directory scan (0: one per core)."),
    max_file_size: Optional[int] = typer.Option(None, "--max-file-size", show_default=False,
                                                help="Skip files larger than this many bytes [default: 5 MiB]."),
    config_file: Optional[str] = typer.Option(None, "--config",
                                              help="Apply this config file to every path instead of each file's nearest one."),
    isolated: bool = typer.Option(False, "--isolated", help="Read no config file: defaults and flags only."),
    show_settings: bool = typer.Option(False, "--show-settings",
                                       help="Print the settings that apply to each PATH, and where each came from; lint nothing."),
    scan_rules: bool = typer.Option(False, "--scan-rules",
                                    help="Lint a named file only if a directory scan would take it "
                                         "(used by the pre-commit hooks)."),
    baseline_file: Optional[str] = typer.Option(None, "--baseline", help="Report only findings not recorded in this baseline."),
    write_baseline: Optional[str] = typer.Option(None, "--write-baseline", help="Record every current finding in this file and exit 0."),
    sarif_category: Optional[str] = typer.Option(None, "--sarif-category",
                                                 help="Code scanning category (SARIF runAutomationDetails.id "
                                                      "CATEGORY/), for several caplint uploads per commit."),
    sarif_run_id: Optional[str] = typer.Option(None, "--sarif-run-id",
                                               help="A run id after the category (CATEGORY/RUN_ID), such as a date."),
    color: Optional[bool] = typer.Option(None, "--color/--no-color", show_default=False,
                                         help="Colour the text report, whatever the environment says "
                                              "[default: on a terminal, unless NO_COLOR is set or with --output]."),
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
    fix: bool = typer.Option(False, "--fix",
                             help="Apply the safe fixes (misspelt and redundant capabilities), then report what "
                                  "remains; with '-', print the fixed text."),
    unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes",
                                      help="With --fix or --diff: also the fixes that change what a container may do "
                                           "(drop ALL and add back what it needs, set no-new-privileges, remove a "
                                           "needless NET_BIND_SERVICE)."),
    diff: bool = typer.Option(False, "--diff",
                              help="Print the fixes as a unified diff and write nothing; exit 1 when there is one."),
) -> None:
    """Lint files and folders for dangerous container privileges."""
    from caplint import report
    from caplint.config import ConfigError

    fmt, fail_on = format_choice, fail_on_choice
    paths, stdin = _check_paths(paths, stdin_filename)
    if config_file is not None and isolated:
        raise _fail_usage("--config and --isolated cannot be combined")
    resolver = _resolver(config_file=config_file, isolated=isolated, select=select, ignore=ignore,
                         extend_select=extend_select, extend_ignore=extend_ignore,
                         fail_on=fail_on, max_file_size=max_file_size)
    if show_settings:
        try:
            typer.echo("\n".join(resolver.describe(p) for p in ([stdin_filename or "stdin"] if stdin else paths)),
                       nl=False)
        except ConfigError as err:
            raise _fail_usage(str(err)) from None
        raise typer.Exit(EXIT_CLEAN)
    try:
        render = _statistics_renderer(fmt, quiet) if statistics else _renderer(fmt, output)
        automation_id = _sarif_id(sarif_category, sarif_run_id, fmt or _default_format(output))
    except ValueError as err:
        raise _fail_usage(str(err)) from None
    recorded = _load_baseline(baseline_file) if baseline_file and not write_baseline else None
    if unsafe_fixes and not (fix or diff):
        _warn("--unsafe-fixes has no effect without --fix or --diff")
    if (fix or diff) and write_baseline:
        raise _fail_usage("--write-baseline records findings; it cannot be combined with --fix or --diff")

    try:
        if fix or diff:
            findings, linted = _fix(paths if not stdin else None, stdin_filename or "stdin", resolver, jobs,
                                    scan_rules=scan_rules, unsafe=unsafe_fixes, diff=diff)
            if diff:
                raise typer.Exit(EXIT_FINDINGS if findings else EXIT_CLEAN)
        elif stdin:
            findings, linted = _lint_stdin(stdin_filename or "stdin", resolver, fixes=fmt == "sarif")
        else:
            findings, linted = _lint_paths(paths, resolver, jobs, scan_rules=scan_rules, fixes=fmt == "sarif")
    except ConfigError as err:  # a config file met on the way (each folder has its own)
        raise _fail_usage(str(err)) from None

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
                             sarif_id=automation_id, show_all=show_all)
    if fix and stdin and not output:
        # stdout carries the fixed text; what remains is told on stderr.
        typer.echo(_summary(findings, len(linted)) if quiet else render(findings, context), err=True, nl=quiet)
    else:
        _emit(render(findings, context), output, _summary(findings, len(linted)), quiet)
    # Each file's own fail-on (its folders were all resolved above, so no config is read here).
    failed = any(f.severity >= resolver.for_file(f.span.path).fail_on for f in findings)
    raise typer.Exit(EXIT_FINDINGS if failed and not exit_zero else EXIT_CLEAN)


def _emit(text: str, output: Optional[str], summary: str, quiet: bool) -> None:
    """The report to --output or stdout; with --quiet stdout gets only the summary
    line. With --output the summary goes to stderr, so a log still says what happened."""
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as err:
            raise _fail_usage(f"cannot write {output}: {err.strerror}") from None
    if quiet:
        typer.echo(summary)
    elif output:
        typer.echo(f"caplint: {summary} Report written to {output}.", err=True)
    else:
        sys.stdout.write(text)


def _summary(findings: list["Finding"], files: int) -> str:
    from caplint.report.text import summary

    return summary(findings, files)


def _statistics_renderer(fmt: Optional[str], quiet: bool) -> "Renderer":
    from caplint.report import statistics

    if quiet:
        raise ValueError("--quiet and --statistics cannot be combined")
    return statistics.renderer(fmt or "text")


def _resolver(*, config_file: Optional[str], isolated: bool, select: Optional[list[str]], ignore: Optional[list[str]],
              extend_select: Optional[list[str]] = None, extend_ignore: Optional[list[str]] = None,
              fail_on: Optional[str] = None, max_file_size: Optional[int] = None) -> "Resolver":
    """Each file's settings: its nearest config file (or --config's, or none
    with --isolated) with the command line on top: --select and --ignore
    replace the config's lists, --extend-select and --extend-ignore add to them."""
    from caplint.config import ConfigError, unknown_code
    from caplint.model import Severity
    from caplint.registry import RuleLoadError, all_rules
    from caplint.settings import Overrides, Resolver

    try:
        known = {r.id for r in all_rules()}
    except RuleLoadError as err:
        raise _fail_usage(str(err)) from None
    bad = unknown_code(_codes(select) | _codes(ignore) | _codes(extend_select) | _codes(extend_ignore), known)
    if bad is not None:
        raise _fail_usage(f"unknown rule or prefix {bad!r} (see 'caplint rules')")
    if max_file_size is not None and max_file_size <= 0:
        raise _fail_usage("--max-file-size must be a positive number of bytes")
    overrides = Overrides(select=_codes(select) or None, ignore=_codes(ignore) if ignore else None,
                          extend_select=_codes(extend_select), extend_ignore=_codes(extend_ignore),
                          fail_on=Severity.parse(fail_on) if fail_on else None, max_bytes=max_file_size)
    try:
        return Resolver(known, overrides, config_file=config_file, isolated=isolated)
    except ConfigError as err:
        raise _fail_usage(str(err)) from None


def _sarif_id(category: Optional[str], run_id: Optional[str], fmt: str) -> Optional[str]:
    """SARIF `runAutomationDetails.id`. GitHub reads it as CATEGORY/RUN_ID: the
    category is everything before the last `/`, so a category alone must end
    with `/` (else its last part would be taken for a run id)."""
    if category is None and run_id is None:
        return None
    if fmt != "sarif":
        given = "--sarif-category" if category is not None else "--sarif-run-id"
        _warn(f"{given} has no effect with --format {fmt} (only SARIF reports carry a category)")
        return None
    if run_id is not None and ("/" in run_id or not run_id.strip()):
        raise ValueError(f"--sarif-run-id {run_id!r}: a run id is not empty and has no '/' "
                         "(GitHub takes everything before the last '/' as the category)")
    if category is not None and not category.strip("/ "):
        raise ValueError(f"--sarif-category {category!r}: a category needs a name")
    prefix = "" if category is None else category if category.endswith("/") else category + "/"
    return prefix + (run_id or "")


def _renderer(fmt: Optional[str], output: Optional[str]) -> "Renderer":
    from caplint import report

    chosen = fmt or _default_format(output)
    try:
        return report.renderer(chosen)
    except ImportError:
        if fmt is None:
            return report.renderer("text")
        raise ValueError(f"the {chosen!r} format is not available in this installation") from None


def _lint_stdin(name: str, resolver: "Resolver", *, fixes: bool = False) -> tuple[list["Finding"], list[str]]:
    """The buffer an editor sends, linted as if it were the file `name`."""
    from caplint import engine
    from caplint.reading import ReadError, decode

    data = sys.stdin.buffer.read()
    settings = _with_fixes(resolver.for_file(name), fixes)
    if settings.excludes(name):
        return [], []
    try:
        return engine.lint_text(name, decode(data, name), None, settings), [name]
    except ReadError as err:
        return engine.problem_findings([err.problem], "", settings, name), [name]


def _lint_paths(paths: list[str], resolver: "Resolver", jobs: int, *, scan_rules: bool,
                fixes: bool = False) -> tuple[list["Finding"], list[str]]:
    found = _found(paths, resolver, scan_rules)
    settings_for = resolver.for_file if not fixes else lambda p: _with_fixes(resolver.for_file(p), True)
    if len(found) == 1:  # what an editor or a one-file commit asks: no pool, no need for the pool's module
        from caplint import engine

        return engine.lint_found(found, settings_for), [found[0].path]
    from caplint import parallel

    workers = jobs if jobs > 0 else _usable_cores()
    return parallel.lint_found(found, settings_for, jobs=workers), [f.path for f in found]


def _found(paths: list[str], resolver: "Resolver", scan_rules: bool) -> list["Found"]:
    from caplint.discover import as_scanned, discover

    return [f for f in (as_scanned if scan_rules else discover)(paths, resolver.excludes)
            if not resolver.for_file(f.path).excludes(f.path)]  # a named file is excluded too


def _with_fixes(settings: "Settings", fixes: bool) -> "Settings":
    """SARIF carries each finding's edit: the same settings with edits spelt out."""
    if not fixes:
        return settings
    from caplint.fixing.run import with_fixes

    return with_fixes(settings)


def _fix(paths: Optional[list[str]], name: str, resolver: "Resolver", jobs: int, *, scan_rules: bool, unsafe: bool,
         diff: bool) -> tuple[list["Finding"], list[str]]:
    """--fix and --diff: the files fixed (or their diffs printed), and what remains.
    Notes and the fix summary go to stderr, so stdout stays the report (or the
    diff, or with '-' the fixed text)."""
    from caplint.fixing import command

    if paths is None:
        from caplint.fixing.splice import Written
        from caplint.reading import ReadError

        data = sys.stdin.buffer.read()
        if resolver.for_file(name).excludes(name):
            sys.stdout.buffer.write(b"" if diff else data)  # an excluded file is not caplint's to change
            return [], []
        try:
            written = Written.read(data, name)
        except ReadError as err:
            raise _fail_usage(f"cannot fix stdin: {err.problem.message}") from None
        result = command.fix_stdin(name, written.text, resolver.for_file(name), unsafe)
        linted = [name]
        out = result.outcomes[0]
        if diff:
            sys.stdout.write(out.diff())
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(written.encode(out.after))
    else:
        found = _found(paths, resolver, scan_rules)
        result = command.fix_found(found, resolver.for_file, jobs=jobs if jobs > 0 else _usable_cores(),
                                   unsafe=unsafe, write=not diff)
        linted = [f.path for f in found]
        if diff:
            sys.stdout.write("".join(o.diff() for o in result.changed()))
    for note in result.notes(os.getcwd()):
        typer.echo(f"caplint: {note}", err=True)
    typer.echo(f"caplint: {result.summary(diff)}", err=True)
    if diff:
        return [f for o in result.changed() for f in o.fixed], linted
    return result.findings, linted


def _load_baseline(path: str) -> frozenset[tuple[str, str]]:
    from caplint.baseline import BaselineError, load

    try:
        return load(path)
    except BaselineError as err:
        raise _fail_usage(str(err)) from None


def _without_baselined(findings: list["Finding"], recorded: frozenset[tuple[str, str]], linted: list[str],
                       path: str) -> list["Finding"]:
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


def whole_app() -> typer.Typer:
    """The app with every command."""
    import caplint.commands  # noqa: F401 — registers the other commands on base_app

    return base_app


def __getattr__(name: str) -> typer.Typer:
    # `caplint.cli.app`: the whole app, as tests and embedders expect it.
    if name == "app":
        return whole_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def app_for(argv: list[str]) -> typer.Typer:
    """The app to run for these arguments. Typer builds a click command, every
    parameter of it, for each registered command on each start; a run of one
    command needs only that one, so `caplint check …` gets an app holding just
    `check` (same callback, same settings, so the same help and errors), and
    `caplint`, `caplint --help` or a mistyped command get the whole app."""
    app = base_app if argv[:1] == ["check"] else whole_app()
    chosen = [c for c in app.registered_commands
              if argv and argv[0] == (c.name or (c.callback.__name__ if c.callback else "").replace("_", "-"))]
    if not chosen:
        return app
    one = typer.Typer(**_TYPER)  # type: ignore[arg-type]
    one.registered_callback = app.registered_callback
    one.registered_commands = chosen
    return one


def main() -> None:
    # What is loaded by now (typer, caplint's modules) lives until exit: moved
    # out of the cyclic collector's reach, later collections do not traverse
    # it again, nor does the full collection at interpreter exit, which was a
    # tenth of a one-file run (bench/README.md). What the run allocates is
    # collected after every 50,000 new objects rather than 700: a lint makes
    # many small values and few cycles, and a long run (a scan, the language
    # server) still collects all it allocates, a few megabytes at a time.
    import gc

    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    app_for(sys.argv[1:])()
