"""`caplint image`: findings for scanned images, and the `getcap -r /` listing."""
from __future__ import annotations

from collections.abc import Sequence

from caplint.engine import Settings, lint_model
from caplint.image import Options
from caplint.model import Finding, ParseResult, Problem, Span


def scan(path: str, options: Options) -> ParseResult:
    """`caplint.image.scan`, with a net under it: a bug on one image must not end the run."""
    from caplint import image

    try:
        return image.scan(path, options)
    except Exception as err:  # noqa: BLE001 — the reader raises ImageError on bad input by design
        return ParseResult(problems=[Problem(Span.point(path, 1), f"caplint failed to read this image "
                                             f"({type(err).__name__}: {err}); please report it")])


def lint(paths: Sequence[str], settings: Settings, options: Options) -> list[Finding]:
    """Every finding for the images at `paths`, sorted; one broken image never stops the rest."""
    findings: list[Finding] = []
    for path in paths:
        findings.extend(lint_model(scan(path, options), path, settings))
    return sorted(findings, key=Finding.sort_key)


def listing(paths: Sequence[str], options: Options) -> tuple[str, list[Problem]]:
    """Each file capability exactly as `getcap -r /` prints it (`/usr/bin/ping cap_net_raw=ep`),
    under a `# path: image` heading when more than one image is listed."""
    blocks: list[tuple[str, list[str]]] = []
    problems: list[Problem] = []
    for path in paths:
        result = scan(path, options)
        problems.extend(result.problems)
        for image in result.images:
            if image.saved is None:
                continue
            lines = []
            for file in image.saved.files:
                cap = file.capability
                if cap is not None:  # getcap (libcap 2.66) does not print a v3 rootid either
                    lines.append(f"{file.path} {cap.text}")
            blocks.append((f"# {path}: {image.saved.reference}", lines))
    if len(blocks) == 1:
        text = "".join(line + "\n" for line in blocks[0][1])
    else:
        text = "".join(heading + "\n" + "".join(line + "\n" for line in lines) for heading, lines in blocks)
    return text, problems
