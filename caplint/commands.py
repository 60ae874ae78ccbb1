"""The commands other than `check`: `rules`, `explain`, `caps`, `image` and `lsp`.

Apart from `caplint.cli` because typer builds every parameter a module
declares into objects when it is imported, and the command run on every save
is `check`: these are loaded only when one of them runs, or when the whole
app is shown (`caplint --help`). Importing this module registers them on
`cli.base_app`.
"""
import os
import sys
from typing import Optional

import typer

from caplint.cli import (EXIT_CLEAN, EXIT_FINDINGS, _check_paths, _default_format, _emit, _fail_usage, _renderer,
                         _resolver, _sarif_id, _summary, _use_color, base_app)

app = base_app


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
    paths: list[str] = typer.Argument(None, help="Files or folders (default: .); '-' reads stdin."),
    stdin_filename: Optional[str] = typer.Option(None, "--stdin-filename", help="The name of the file read from stdin ('-')."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
    runtime: Optional[str] = typer.Option(None, "--runtime", show_default=False,
                                          help="docker, podman or nerdctl for Compose [default: the config's, else docker]."),
    image: Optional[list[str]] = typer.Option(None, "--image", metavar="NAME=PATH",
                                              help="Judge containers running image NAME with the saved image at PATH "
                                                   "(docker save tarball, OCI layout); repeatable."),
    no_verify: bool = typer.Option(False, "--no-verify", help="With --image: do not check the image's blob digests."),
) -> None:
    """Print each container's effective capability set, where each capability came
    from, and the capabilities it needs, with the evidence."""
    from caplint.config import RUNTIMES, ConfigError
    from caplint.effective import describe_paths, render_paths, render_text
    from caplint.reading import ReadError, decode

    if fmt not in ("text", "json"):
        raise _fail_usage(f"unknown format {fmt!r} for caps (choose from text, json)")
    if runtime is not None and runtime not in RUNTIMES:
        raise _fail_usage(f"unknown runtime {runtime!r} (choose from {', '.join(RUNTIMES)})")
    paths, stdin = _check_paths(paths, stdin_filename)
    name = stdin_filename or "stdin"
    if runtime is None:
        try:
            runtime = _resolver(config_file=None, isolated=False, select=None, ignore=None).for_file(
                name if stdin else os.path.join(paths[0], "x") if os.path.isdir(paths[0]) else paths[0]).runtime
        except ConfigError as err:
            raise _fail_usage(str(err)) from None
    images = dict(i.partition("=")[::2] for i in image or ())
    bad = [i for i in image or () if "=" not in i or not all(i.partition("=")[::2])]
    if bad:
        raise _fail_usage(f"--image {bad[0]!r} is not NAME=PATH (e.g. example/app:1=app.tar)")
    missing = [p for p in images.values() if not os.path.lexists(p)]
    if missing:
        raise _fail_usage(f"no such file or directory: {', '.join(missing)}")
    if images and stdin:
        raise _fail_usage("--image goes with files and folders (not with '-')")
    if stdin:
        try:
            text = render_text(name, decode(sys.stdin.buffer.read(), name), runtime, fmt)
        except ReadError as err:
            text = f"{name}:{err.problem.span.line}: cannot read: {err.problem.message}\n"
    elif images:
        text = describe_paths(paths, runtime, images, fmt, verify=not no_verify)
    else:
        text = render_paths(paths, runtime, fmt)
    typer.echo(text, nl=False)


@app.command("image")
def image_command(
    paths: list[str] = typer.Argument(..., help="docker save tarballs, OCI image layouts (folders or tars), "
                                                "compressed or not."),
    platform: Optional[str] = typer.Option(None, "--platform", help="Only this platform of a multi-platform "
                                                                    "image: os/arch[/variant]."),
    list_caps: bool = typer.Option(False, "--list", help="Print every file capability as 'getcap -r /' would, "
                                                         "instead of findings."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Do not check that each layer, config and manifest "
                                                              "hashes to its digest (as docker load does); faster."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", show_default=False,
                                      help="text, json, sarif, gnu or github [default: text; github under GitHub Actions]."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    select: Optional[list[str]] = typer.Option(None, help="Only these rules or prefixes (CAP2,CAP402)."),
    ignore: Optional[list[str]] = typer.Option(None, help="Skip these rules or prefixes."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", show_default=False,
                                          help="Exit 1 on findings of this severity or worse [default: medium]."),
    config_file: Optional[str] = typer.Option(None, "--config", help="Use this config file instead of looking for one."),
    sarif_category: Optional[str] = typer.Option(None, "--sarif-category", help="SARIF runAutomationDetails id."),
    color: Optional[bool] = typer.Option(None, "--color/--no-color", show_default=False, help="Colour the text report."),
) -> None:
    """Lint saved images for file capabilities, setuid files and a root user, without running them."""
    from caplint import report
    from caplint.image import Options
    from caplint.image.lint import lint, listing
    from caplint.model import Severity

    if platform is not None and not 2 <= len(platform.strip("/").split("/")) <= 3:
        raise _fail_usage(f"--platform {platform!r} is not os/arch[/variant] (e.g. linux/arm64)")
    missing = [p for p in paths if not os.path.lexists(p)]
    if missing:
        raise _fail_usage(f"no such file or directory: {', '.join(missing)}")
    options = Options(platform=platform, verify=not no_verify)
    if list_caps:
        text, problems = listing(paths, options)
        sys.stdout.write(text)
        for problem in problems:
            typer.echo(f"caplint: {problem.span.path}: {problem.message}", err=True)
        raise typer.Exit(EXIT_FINDINGS if problems else EXIT_CLEAN)
    try:
        Severity.parse(fail_on) if fail_on else None
        render = _renderer(fmt, output)
    except ValueError as err:
        raise _fail_usage(str(err)) from None
    resolver = _resolver(config_file=config_file, isolated=False, select=select, ignore=ignore, fail_on=fail_on)
    settings = resolver.for_file(paths[0])
    from caplint.registry import all_rules

    findings = lint(paths, settings, options)
    context = report.Context(rules=all_rules(), files=len(paths), color=_use_color(output, color),
                             sarif_id=_sarif_id(sarif_category, None, fmt or _default_format(output)))
    _emit(render(findings, context), output, _summary(findings, len(paths)), False)
    raise typer.Exit(EXIT_FINDINGS if any(f.severity >= settings.fail_on for f in findings) else EXIT_CLEAN)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def lsp(ctx: typer.Context) -> None:
    """Run the language server on stdin/stdout, for editors (options: --stdio, --log-level)."""
    try:
        from caplint import lsp as server
    except ImportError as err:
        raise _fail_usage(f"the language server is not available in this installation ({err})") from None
    # The server owns its options, so they are handed on as written.
    server.main(list(ctx.args))
