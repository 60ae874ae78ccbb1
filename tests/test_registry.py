"""Rule loading: entry points, validation, and the start-up cache."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from caplint import registry
from caplint.model import Container, Severity
from caplint.rules import rule
from conftest import ROOT

_DOC = "Summary.\n\n## What it does\nx\n\n## Why is this bad?\nx\n\n## Example\nx\n\n## Use instead\nx\n"


def _rule(rule_id: str, doc: str = _DOC) -> object:
    def check(_: Container) -> list[object]:
        return []
    check.__doc__ = doc
    return rule(rule_id, "name", Severity.LOW, (Container,))(check)  # type: ignore[arg-type]


def test_builtin_rules_load_sorted_and_valid() -> None:
    ids = [r.id for r in registry.all_rules()]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert {"CAP001", "CAP002", "CAP101", "CAP207", "CAP403"} <= set(ids)


@pytest.mark.parametrize(("obj", "name", "message"), [
    (object(), "CAP999", "is not a caplint Rule"),
    (_rule("bad"), "bad", "does not look like"),
    (_rule("CAP998"), "CAP997", "the name must be the id"),
    (_rule("CAP996", "Summary only."), "CAP996", "no documentation for"),
])
def test_invalid_plugins_are_rejected(obj: object, name: str, message: str) -> None:
    with pytest.raises(registry.RuleLoadError, match=message):
        registry.validate(obj, name)


def test_two_rules_with_one_id_clash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "first", _rule("CAP990"), raising=False)
    monkeypatch.setattr(sys.modules[__name__], "second", _rule("CAP990"), raising=False)
    with pytest.raises(registry.RuleLoadError, match="two rules claim"):
        registry._build([("CAP990", f"{__name__}:first"), ("CAP990", f"{__name__}:second")])


def _run(code: str, cache: Path) -> str:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("CAPLINT_NO_CACHE", None)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env=env, check=True, timeout=60).stdout


_PROBE = ("import sys; from caplint.registry import all_rules; n = len(all_rules()); "
          "print(n, 'importlib.metadata' in sys.modules)")


def test_cache_skips_the_distribution_scan(tmp_path: Path) -> None:
    first = _run(_PROBE, tmp_path)
    (cache_file,) = (tmp_path / "caplint").glob("rules-*.json")
    second = _run(_PROBE, tmp_path)
    count = first.split()[0]
    assert first.split() == [count, "True"]  # scanned
    assert second.split() == [count, "False"]  # read from the cache, no importlib.metadata
    data = json.loads(cache_file.read_text())
    assert ["CAP101", "caplint.rules.privileges:privileged_container"] in data["rules"]


def test_stale_or_broken_cache_means_a_scan(tmp_path: Path) -> None:
    _run(_PROBE, tmp_path)
    (cache_file,) = (tmp_path / "caplint").glob("rules-*.json")
    data = json.loads(cache_file.read_text())
    data["key"][0][1] = 1  # a sys.path folder changed since
    cache_file.write_text(json.dumps(data))
    assert _run(_PROBE, tmp_path).split()[1] == "True"
    data = json.loads(cache_file.read_text())
    data["rules"].append(["CAP999", "caplint.no_such_module:rule"])  # key right, content wrong
    cache_file.write_text(json.dumps(data))
    assert _run(_PROBE, tmp_path).split()[1] == "True"
    cache_file.write_text("{not json")
    assert _run(_PROBE, tmp_path).split()[1] == "True"


def test_unwritable_cache_is_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "caplint").write_text("a file where the folder should be")
    assert _run(_PROBE, tmp_path).split()[1] == "True"
