"""Which settings apply to each file: its nearest configuration file, with the
command line on top.

Every front end asks a `Resolver` (the CLI for each file of a scan, the language
server for each buffer). Answers are kept per folder, so a scan of a thousand
files reads each folder's candidates once and each config file once, and files
that share a config share one `Settings` value — which is what a worker process
receives, once, however many files use it.
"""
from __future__ import annotations

import os
from collections.abc import Collection

from caplint.config import Config, discover_config, find, load
from caplint.engine import Settings, settings_from
from caplint.model import Severity
from caplint.reading import DEFAULT_MAX_BYTES
from caplint.values import value


@value
class Overrides:
    """What the command line says; None leaves the config file's value."""

    select: frozenset[str] | None = None
    ignore: frozenset[str] | None = None
    extend_select: frozenset[str] = frozenset()  # added to each config's lists, not replacing them
    extend_ignore: frozenset[str] = frozenset()
    fail_on: Severity | None = None
    max_bytes: int | None = None


# The command-line flag that overrides each config key.
FLAGS = {"select": "--select", "ignore": "--ignore", "fail-on": "--fail-on", "max-file-size": "--max-file-size"}


class Resolver:
    """Settings per file. `config_file` (--config) applies one file to every
    path; `isolated` (--isolated) reads no config file at all. Raises
    ConfigError (from any method) for a config file that is wrong."""

    def __init__(self, known_rules: Collection[str], overrides: Overrides = Overrides(), *,
                 config_file: str | None = None, isolated: bool = False) -> None:
        self.known = frozenset(known_rules)
        self.overrides = overrides
        self._found: dict[str, str | None] = {}  # folder → its config file
        self._configs: dict[str | None, tuple[Config, Settings]] = {}
        self._by_folder: dict[str, Settings] = {}  # folder as spelled → its settings
        self._fixed: Config | None = None
        if isolated:
            self._fixed = Config()
        elif config_file is not None:
            self._fixed = discover_config(".", self.known, config_file)

    def config_path(self, path: str) -> str | None:
        """The config file that decides for `path` (a file or folder), or None."""
        if self._fixed is not None:
            return self._fixed.path
        return find(path, self._found)

    def config_for(self, path: str) -> Config:
        return self._entry(self.config_path(path))[0]

    def in_folder(self, folder: str) -> Settings:
        """For the files in `folder` (as spelled; "" is the current folder)."""
        settings = self._by_folder.get(folder)
        if settings is None:
            settings = self._entry(self.config_path(folder or "."))[1]
            self._by_folder[folder] = settings
        return settings

    def for_file(self, path: str) -> Settings:
        """For a path known to be a file, or one that need not exist (stdin's name)."""
        return self.in_folder(os.path.dirname(path))

    def for_path(self, path: str) -> Settings:
        """For a file or a folder (a folder's own config counts for it)."""
        return self.in_folder(path if os.path.isdir(path) else os.path.dirname(path))

    def excludes(self, path: str, is_dir: bool | None = None) -> bool:
        """Whether `path` is excluded by the config that applies to it."""
        is_dir = os.path.isdir(path) if is_dir is None else is_dir
        return self.in_folder(path if is_dir else os.path.dirname(path)).excludes(path)

    def _entry(self, config_path: str | None) -> tuple[Config, Settings]:
        entry = self._configs.get(config_path)
        if entry is None:
            if self._fixed is not None:
                config = self._fixed
            else:
                config = load(config_path, self.known) if config_path else Config()
            o = self.overrides
            entry = (config, settings_from(config, select=o.select, ignore=o.ignore, extend_select=o.extend_select,
                                           extend_ignore=o.extend_ignore, max_bytes=o.max_bytes, fail_on=o.fail_on))
            self._configs[config_path] = entry
        return entry

    def describe(self, path: str) -> str:
        """What applies to `path` and where each value came from (--show-settings)."""
        config, settings = self._entry(self.config_path(path))
        source = config.path or "no config file"

        def origin(key: str, given: object) -> str:
            extended = {"select": o.extend_select, "ignore": o.extend_ignore}.get(key)
            if given is not None:
                return f"command line ({FLAGS[key]})"
            if extended:
                where = source if key in config.keys else "default"
                return f"{where} + command line (--extend-{key})"
            return source if key in config.keys else "default"

        def codes(values: Collection[str] | None) -> str:
            return ", ".join(sorted(values)) if values else "none"

        o = self.overrides
        rows = [
            ("select", "every rule" if settings.select is None else codes(settings.select), origin("select", o.select)),
            ("ignore", codes(settings.ignore), origin("ignore", o.ignore)),
            ("severity", ", ".join(f"{k} = {v.label}" for k, v in sorted(settings.severity.items())) or "none",
             origin("severity", None)),
            ("per-path-ignores", "; ".join(f"{glob}: {codes(ids)}" for glob, ids in settings.per_path_ignores) or "none",
             origin("per-path-ignores", None)),
            ("exclude", ", ".join(settings.exclude) or "none", origin("exclude", None)),
            ("fail-on", settings.fail_on.label, origin("fail-on", o.fail_on)),
            ("max-file-size", f"{settings.max_bytes} bytes"
             + (" (5 MiB)" if settings.max_bytes == DEFAULT_MAX_BYTES else ""), origin("max-file-size", o.max_bytes)),
        ]
        how = ("--isolated: no config file is read" if self._fixed is not None and config.path is None
               else f"--config {config.path}" if self._fixed is not None else source)
        lines = [f"{path}", f"  config: {how}"]
        if config.root:
            lines.append(f"  globs relative to: {config.root}")
        width = max(len(key) for key, _, _ in rows)
        lines.extend(f"  {key:<{width}}  {value}  [{where}]" for key, value, where in rows)
        if settings.excludes(path):
            lines.append("  this path is excluded: caplint does not lint it")
        else:
            ran = settings.rules_for(path)
            lines.append(f"  rules that run here: {len(ran)} ({', '.join(r.id for r in ran)})")
        return "\n".join(lines) + "\n"
