"""The committed rule pages and the README's rules table are generated from the
rules' docstrings; these tests fail while they are stale."""
from __future__ import annotations

from caplint.docs import README, RULES_DIR, expected_pages, readme_with_table
from caplint.registry import REQUIRED_SECTIONS, all_rules


def test_rule_pages_are_up_to_date() -> None:
    pages = expected_pages(all_rules())
    committed = {p.name for p in RULES_DIR.glob("*.md")}
    assert committed == set(pages), "run: python -m caplint.docs"
    for name, text in pages.items():
        assert (RULES_DIR / name).read_text(encoding="utf-8") == text, f"rules/{name} is stale: run python -m caplint.docs"


def test_readme_rules_table_is_up_to_date() -> None:
    readme = README.read_text(encoding="utf-8")
    assert "<!-- rules-table:start -->" in readme
    assert readme_with_table(readme, all_rules()) == readme, "run: python -m caplint.docs"


def test_every_rule_is_documented_under_the_headings() -> None:
    for rule in all_rules():
        for heading in (*REQUIRED_SECTIONS, "References"):
            assert rule.section(heading), f"{rule.id} lacks '## {heading}'"
        assert len(rule.summary) <= 120
