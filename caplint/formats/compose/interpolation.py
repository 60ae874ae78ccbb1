"""Compose variable interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
`${VAR:?err}`, `${VAR?err}`, `${VAR:+alt}`, `${VAR+alt}`, `$VAR` and `$$`.

An unset variable without a default is *unknown*, not empty: Compose would
substitute an empty string with a warning, but caplint must not guess what the
deploy environment sets, so the value comes back unresolved.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Unresolved(Exception):
    pass


def interpolate(text: str, env: Mapping[str, str]) -> tuple[str, bool]:
    """(value, resolved). When unresolved, unknown parts stay as written."""
    if "$" not in text:
        return text, True
    out: list[str] = []
    resolved = True
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        if text.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        end, value, ok = _expression(text, i, env)
        resolved = resolved and ok
        out.append(value)
        i = end
    return "".join(out), resolved


def _expression(text: str, start: int, env: Mapping[str, str]) -> tuple[int, str, bool]:
    """Parse the expression at text[start] == '$'; return (end, value, resolved)."""
    if text.startswith("${", start):
        close = _matching_brace(text, start + 1)
        if close < 0:  # `${` never closed: Compose errors; keep it as written
            return len(text), text[start:], False
        body = text[start + 2: close]
        value, ok = _braced(body, env)
        return close + 1, value if ok else text[start: close + 1], ok
    m = _NAME.match(text, start + 1)
    if not m:
        return start + 1, "$", True
    name = m.group()
    if name in env:
        return m.end(), env[name], True
    return m.end(), text[start: m.end()], False


# What Compose accepts between `${` and `}`: a name, then optionally an
# operator and its argument (compose-go's template pattern; `.` stops at a newline).
_BRACED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?::?[-+?](.*))?")


def template_error(text: str) -> str | None:
    """Why Compose refuses `text` as a template (`${`, `${}`, `${1}`, `${V:x}`), or None.
    A `$` before anything else (`$1`, `a$`) is a plain dollar to Compose."""
    i = text.find("$")
    while 0 <= i < len(text):
        if text.startswith("$$", i):
            i = text.find("$", i + 2)
            continue
        if text.startswith("${", i):
            close = _matching_brace(text, i + 1)
            m = _BRACED.fullmatch(text, i + 2, close) if close >= 0 else None
            if m is None:
                return f"{text[i:close + 1] if close >= 0 else text[i:]!r} is not a variable Compose can substitute " \
                       "(write $$ for a literal $)"
            if m.group(1) is not None and (inner := template_error(m.group(1))) is not None:
                return inner
            i = close + 1
        else:
            i += 1
        i = text.find("$", i)
    return None


def _matching_brace(text: str, open_at: int) -> int:
    depth = 0
    for j in range(open_at, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return -1


def _braced(body: str, env: Mapping[str, str]) -> tuple[str, bool]:
    m = _NAME.match(body)
    if not m:
        return body, False
    name, rest = m.group(), body[m.end():]
    is_set = name in env
    value = env.get(name, "")
    if rest == "":
        return (value, True) if is_set else ("", False)
    for op in (":-", "-", ":?", "?", ":+", "+"):
        if rest.startswith(op):
            arg, arg_ok = interpolate(rest[len(op):], env)
            # The colon forms treat an empty value like an unset one.
            present = is_set and (bool(value) or not op.startswith(":"))
            if op.endswith("-"):
                return (value, True) if present else (arg, arg_ok)
            if op.endswith("?"):
                return (value, True) if present else ("", False)
            return (arg, arg_ok) if present else ("", True)
    return body, False


def load_dotenv(path: str) -> dict[str, str]:
    """KEY=VALUE lines of a Compose `.env` file (quotes, `export`, comments)."""
    env: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read(1_000_000).splitlines()
    except OSError:
        return env
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _NAME.fullmatch(key):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        env[key] = value
    return env


def environment_for(compose_path: str) -> dict[str, str]:
    """The process environment over the `.env` beside the Compose file, as Compose does."""
    env = load_dotenv(os.path.join(os.path.dirname(os.path.abspath(compose_path)), ".env"))
    env.update(os.environ)
    return env
