"""Generates `rules/CAPnnn.md` and `rules/README.md` from the rules' docstrings.

Run `python -m caplint.docs` after changing a rule; a test fails while the
committed pages differ from what this produces.
"""
from __future__ import annotations

import sys
from pathlib import Path

from caplint.model import Container, Image
from caplint.rules import Rule

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
_APPLIES = {
    Container: "Compose services, docker/podman/nerdctl commands in scripts (also in Dockerfile `RUN`s and "
               "GitHub/GitLab CI scripts), devcontainer.json and devcontainer-feature.json, GitHub Actions job "
               "containers and services",
    Image: "Dockerfiles, saved images (caplint image)",
}


def applies_to(rule: Rule) -> str:
    if not rule.subjects:
        return "every file caplint reads"
    return "; ".join(_APPLIES[s] for s in rule.subjects)


def rule_page(rule: Rule) -> str:
    summary, _, body = rule.doc.partition("\n")
    return (
        f"# {rule.id}: {rule.name}\n\n"
        f"{summary.strip()}\n\n"
        f"| severity | applies to | tags |\n| --- | --- | --- |\n"
        f"| {rule.severity.label} | {applies_to(rule)} | {', '.join(rule.tags)} |\n\n"
        f"{body.strip()}\n"
    )


def index_page(rules: tuple[Rule, ...]) -> str:
    rows = "\n".join(f"| [{r.id}]({r.id}.md) | {r.name} | {r.severity.label} | {r.summary} |" for r in rules)
    return (
        "# caplint rules\n\n"
        "Generated from the rules' docstrings by `python -m caplint.docs`; do not edit by hand.\n\n"
        "| id | name | severity | what it reports |\n| --- | --- | --- | --- |\n"
        f"{rows}\n"
    )


README = RULES_DIR.parent / "README.md"
_START, _END = "<!-- rules-table:start -->", "<!-- rules-table:end -->"


def readme_with_table(readme: str, rules: tuple[Rule, ...]) -> str:
    """The README with the rules table between its markers replaced."""
    start, end = readme.find(_START), readme.find(_END)
    if start < 0 or end < start:
        return readme
    rows = "\n".join(f"| [{r.id}](rules/{r.id}.md) | {r.name} | {r.severity.label} | {r.summary} |" for r in rules)
    table = f"{_START}\n| id | name | severity | what it reports |\n| --- | --- | --- | --- |\n{rows}\n"
    return readme[:start] + table + readme[end:]


def expected_pages(rules: tuple[Rule, ...]) -> dict[str, str]:
    pages = {f"{r.id}.md": rule_page(r) for r in rules}
    pages["README.md"] = index_page(rules)
    return pages


def main() -> int:
    from caplint.registry import all_rules

    RULES_DIR.mkdir(exist_ok=True)
    pages = expected_pages(all_rules())
    for stale in RULES_DIR.glob("*.md"):
        if stale.name not in pages:
            stale.unlink()
    for name, text in pages.items():
        (RULES_DIR / name).write_text(text, encoding="utf-8")
    README.write_text(readme_with_table(README.read_text(encoding="utf-8"), all_rules()), encoding="utf-8")
    from caplint import precommit

    precommit.main()
    print(f"wrote {len(pages)} pages to {RULES_DIR} and {precommit.HOOKS_FILE.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
