"""Rule loading: entry points, validation, and the start-up cache."""
from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def _run(code: str, cache: Path, *, cwd: Path = ROOT, args: tuple[str, ...] = ()) -> str:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("CAPLINT_NO_CACHE", None)
    return subprocess.run([sys.executable, *args, "-c", code] if not args else [sys.executable, *args],
                          capture_output=True, text=True, cwd=cwd, env=env, check=True, timeout=60).stdout


_PROBE = ("import sys; from caplint.registry import all_rules; n = len(all_rules()); "
          "print(n, 'importlib.metadata' in sys.modules)")


def _cache_file(cache: Path) -> Path:
    (found,) = (cache / "caplint").glob("rules-*.marshal")
    return found


def _cached(cache: Path) -> tuple[str, list[tuple[str, int, bool]], list[tuple[str, str]], list[tuple[Any, ...]]]:
    version, folders, entries, facts = marshal.loads(_cache_file(cache).read_bytes())
    return version, folders, entries, facts


def test_cache_skips_the_distribution_scan(tmp_path: Path) -> None:
    first = _run(_PROBE, tmp_path)
    second = _run(_PROBE, tmp_path)
    count = first.split()[0]
    assert first.split() == [count, "True"]  # scanned
    assert second.split() == [count, "False"]  # read from the cache, no importlib.metadata
    _, _, entries, facts = _cached(tmp_path)
    assert ("CAP101", "caplint.rules.privileges:privileged_container") in entries
    cap101 = next(f for f in facts if f[0] == "CAP101")
    assert cap101[1:5] == ("caplint.rules.privileges:privileged_container", "privileged-container", 4, ("Container",))


def test_cache_survives_what_users_do_between_runs(tmp_path: Path) -> None:
    """A console script, `python -m caplint` from changing folders, and a file
    created beside the script or in the current folder (an editor's swap
    file) all keep hitting the cache: only installed metadata is its key."""
    cache, here, there = tmp_path / "cache", tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    script = tmp_path / "probe.py"
    script.write_text(_PROBE + "\n")
    assert _run(_PROBE, cache, cwd=here).split()[1] == "True"  # the first run scans
    assert _run(_PROBE, cache, cwd=there).split()[1] == "False"
    (there / ".compose.yaml.swp").write_text("x")
    assert _run(_PROBE, cache, cwd=there).split()[1] == "False"
    # The changed folder is recorded again, so the next run needs one `stat` of it, not a listing.
    assert (str(there), there.stat().st_mtime_ns, False) in _cached(cache)[1]
    assert _run("", cache, cwd=here, args=(str(script),)).split()[1] == "False"  # sys.path[0] is the script's folder
    (tmp_path / "new-file").write_text("x")
    assert _run("", cache, cwd=here, args=(str(script),)).split()[1] == "False"
    module = subprocess.run([sys.executable, "-X", "importtime", "-m", "caplint", "rules"], capture_output=True, text=True,
                            cwd=there, env={**os.environ, "XDG_CACHE_HOME": str(cache)}, timeout=60)
    assert module.returncode == 0 and "importlib.metadata" not in module.stderr


def test_new_distribution_metadata_invalidates_the_cache(tmp_path: Path) -> None:
    cache, extra = tmp_path / "cache", tmp_path / "extra"
    extra.mkdir()
    env_code = f"import sys; sys.path.append({str(extra)!r}); " + _PROBE
    assert _run(env_code, cache).split()[1] == "True"
    assert _run(env_code, cache).split()[1] == "False"
    dist = extra / "plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: plugin\nVersion: 1.0\n")
    assert _run(env_code, cache).split()[1] == "True"  # a new distribution: scan again
    assert _run(env_code, cache).split()[1] == "False"


def test_stale_or_broken_cache_means_a_scan(tmp_path: Path) -> None:
    _run(_PROBE, tmp_path)
    cache_file = _cache_file(tmp_path)
    version, folders, entries, facts = _cached(tmp_path)
    moved = [(w, 1 if metadata else m, metadata) for w, m, metadata in folders]  # metadata changed since
    cache_file.write_bytes(marshal.dumps((version, moved, entries, facts)))
    assert _run(_PROBE, tmp_path).split()[1] == "True"
    version, folders, entries, facts = _cached(tmp_path)
    wrong = [*entries, ("CAP999", "caplint.no_such_module:rule")]  # key right, content wrong
    cache_file.write_bytes(marshal.dumps((version, folders, wrong, facts)))
    assert _run(_PROBE, tmp_path).split()[1] == "True"
    edited = [(*f[:10], f[10] - 1) for f in facts]  # a rule module changed in place since
    cache_file.write_bytes(marshal.dumps((version, folders, entries, edited)))
    assert _run(_PROBE, tmp_path).split()[1] == "True"
    for broken in (b"{not a cache", marshal.dumps(("caplint-rules-cache 3", folders, entries, facts)),
                   marshal.dumps((version, [("/usr", "not a time", True)], entries, facts)),
                   marshal.dumps((version, folders, entries, [("CAP101",)])), marshal.dumps([1, 2])):
        cache_file.write_bytes(broken)
        assert _run(_PROBE, tmp_path).split()[1] == "True"


def test_unwritable_cache_is_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "caplint").write_text("a file where the folder should be")
    assert _run(_PROBE, tmp_path).split()[1] == "True"


_GOOD_PLUGIN = '''
from caplint.model import Container, Hit, Severity
from caplint.rules import rule


@rule("ACME100", "acme-named-service", Severity.LOW, (Container,))
def check(c):
    """
    A service of ACME's.

    ## What it does
    Flags every container, to show a plugin runs.

    ## Why is this bad?
    It is not; it is a test.

    ## Example
    Any service.

    ## Use instead
    Nothing.
    """
    yield Hit(c.span, f"{c.name} is ACME's")
'''


def test_a_plugin_that_cannot_be_imported_is_named_and_the_other_rules_run(tmp_path: Path) -> None:
    """A SyntaxError in a plugin's module, or an exception raised while it is
    imported, is a warning naming the entry point: no traceback, and the
    built-in rules and the plugin's other, working rule still run."""
    site, work = tmp_path / "site", tmp_path / "work"
    package = site / "acme_rules"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "good.py").write_text(_GOOD_PLUGIN)
    (package / "broken.py").write_text("from caplint.rules import rule\n\ndef rule(:\n")
    (package / "raising.py").write_text("raise RuntimeError('the ACME licence server is down')\n")
    dist = site / "acme_rules-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-rules\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[caplint.rules]\nACME100 = acme_rules.good:check\n"
                                           "ACME101 = acme_rules.broken:rule\nACME102 = acme_rules.raising:rule\n")
    work.mkdir()
    (work / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n    privileged: true\n")
    env = {**os.environ, "PYTHONPATH": str(site), "XDG_CACHE_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}
    env.pop("CAPLINT_NO_CACHE", None)
    for _ in range(2):  # the scan, then the cached list (which meets the broken plugin again)
        run = subprocess.run([sys.executable, "-m", "caplint", "check", "--format", "gnu", "compose.yaml"],
                             capture_output=True, text=True, cwd=work, env=env, timeout=120)
        assert run.returncode == 1, run.stderr
        assert "Traceback" not in run.stderr
        assert ("caplint: warning: rule plugin ACME101 = acme_rules.broken:rule (entry point in 'caplint.rules') "
                "cannot be loaded, so rule ACME101 does not run: SyntaxError: ") in run.stderr
        assert "rule plugin ACME102 = acme_rules.raising:rule" in run.stderr
        assert "RuntimeError: the ACME licence server is down" in run.stderr
        assert "CAP101" in run.stdout and "ACME100" in run.stdout and "is ACME's" in run.stdout
    listed = subprocess.run([sys.executable, "-m", "caplint", "rules"], capture_output=True, text=True, cwd=work,
                            env=env, timeout=120)
    assert listed.returncode == 0 and "ACME100" in listed.stdout and "ACME101" not in listed.stdout
    assert "ACME101" in listed.stderr and "Traceback" not in listed.stderr
