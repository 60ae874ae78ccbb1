from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# In CI (CI=true) the property tests draw the same examples on every run, so a
# submission's result depends on its code, not on the luck of the draw; on a
# developer's machine they keep exploring at random (and remember failures).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Interpolation reads the environment; tests must not depend on the caller's."""
    for name in list(os.environ):
        if name.startswith(("CAPLINT_TEST_", "COMPOSE_")):
            monkeypatch.delenv(name, raising=False)
    # Under GitHub Actions the default format is `github`; tests expect text.
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def run_caplint(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> "subprocess.CompletedProcess[str]":
    import subprocess

    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "caplint", *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=120,
    )
