"""Dockerfile → Image: stages, USER, RUN flags and the shell commands inside each RUN.

dockerfile-parse finds the instructions and their lines, honouring `# escape=`
and comments inside continued instructions. It does not know three things
BuildKit does, which this module corrects:

- heredocs (`RUN <<EOF`): their bodies come back as instructions of their own;
- blank lines inside a continued instruction, which BuildKit skips but
  dockerfile-parse treats as the instruction's end;
- a continued instruction cut off by the end of the file, which it drops.

Every token is then located on its own physical line. Decisions worth knowing:

- `USER $VAR` / `${VAR}` is expanded from the stage's `ENV` and `ARG` defaults
  (a global `ARG` default counts once the stage re-declares the `ARG`). The
  default is what a plain `docker build` uses, so it counts as known even though
  `--build-arg` could override it; anything else leaves `resolved=False`.
- A stage built `FROM` an earlier stage of the same file inherits that stage's
  `ENV` and `USER`s: its `users` start with the parent's, so the rules see the
  user the final image really runs as.
- `ONBUILD RUN` is linted as a RUN of its stage: it runs in every image built
  from this one, and its author is the one who wrote it here.
- Shell-form RUNs of a stage whose `SHELL` is PowerShell or cmd are not parsed
  as POSIX shell: their text would only produce noise.
"""
from __future__ import annotations

import functools
import io
import posixpath
import itertools
import json
import re
from collections.abc import Iterator, Sequence

from dockerfile_parse import DockerfileParser

from caplint.model import Command, Copy, Image, Located, ParseResult, Problem, Process, RunInstruction, Span, Stage
from caplint.formats.embedded import Region
from caplint.formats.shell import commands as _commands
from caplint.formats.dockerfile.directives import escape_char
from caplint.values import field, record, replace, value
from caplint import lazyre

INSTRUCTIONS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD "
    "RUN SHELL STOPSIGNAL USER VOLUME WORKDIR".split()
)
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
POSIX_SHELLS = _commands.SHELLS
_NON_POSIX_SHELLS = frozenset({"powershell", "pwsh", "cmd"})

_CONTROL = lazyre.compile("[\x01-\x08\x0e-\x1f\ufffd]")
_PLAIN_WORD = lazyre.compile(r"[^ \t]+")
_COMMENT = lazyre.compile(r"^\s*#")
_HEREDOC = lazyre.compile(r"^(\d*)<<(-?)(['\"]?)([^\s<>|&;()'\"]+)\3")
_VAR = lazyre.compile(r"\$\{(\w+)(?:(:?[-+])([^}]*))?\}|\$(\w+)")
_JSON_STRING = lazyre.compile(r'"(?:[^"\\]|\\.)*"')
_OPERATOR = lazyre.compile(r"&&|\|\||;|(?<![>&])\||(?<![<>&])&(?![>&])|[()]")
_SHELL_C = lazyre.compile(r"^-[A-Za-z]*c[A-Za-z]*$")


@value
class _Entry:
    """One instruction: its keyword and first/last physical line (0-based, heredoc bodies excluded)."""

    keyword: str
    start: int
    end: int


@value
class _Word:
    value: str  # quotes and escapes removed
    raw: str
    line: int  # 0-based
    start: int  # 0-based column
    end: int


@value
class _Heredoc:
    marker: _Word
    width: int  # of `<<EOF` itself within the marker word
    body: range  # 0-based line indices of the body
    terminated: bool


@record
class _StageBuilder:
    base: Located[str]
    name: str | None
    span: Span
    env: dict[str, str | None]
    users: list[Located[str]] = field(default_factory=list)
    runs: list[RunInstruction] = field(default_factory=list)
    args: dict[str, str | None] = field(default_factory=dict)
    posix_shell: bool = True
    entrypoint: Process | None = None
    cmd: Process | None = None
    healthcheck: Process | None = None
    copies: list[Copy] = field(default_factory=list)
    exposes: list[Located[int]] = field(default_factory=list)
    workdir: str = "/"
    parent: int | None = None
    cmd_here: bool = False  # the CMD is this stage's own, not inherited

    def freeze(self) -> Stage:
        return Stage(self.base, self.name, self.span, tuple(self.users), tuple(self.runs),
                     self.entrypoint, self.cmd, self.healthcheck, tuple(self.copies), tuple(self.exposes),
                     self.parent, self.workdir)


def parse(text: str, path: str) -> ParseResult:
    result = ParseResult()
    if _looks_binary(text):
        result.problems.append(Problem(Span.point(path, 1), "binary file: not a Dockerfile"))
        return result
    _Builder(text, path, result).build()
    return result


def _looks_binary(text: str) -> bool:
    head = text[:8192]
    if "\x00" in head:
        return True
    return len(_CONTROL.findall(head)) > max(8, len(head) // 20)


def _continues(line: str, escape: str) -> bool:
    return line.rstrip().endswith(escape)


def _segment(lines: list[str], escape: str) -> list[_Entry]:
    """The instructions as dockerfile-parse sees them, with its gaps filled."""
    # Restate the escape directive on a line of its own: dockerfile-parse misses
    # it after another directive such as `# check=`.
    prefix = [f"# escape={escape}"]
    # A trailing blank line makes dockerfile-parse flush an instruction still
    # continued at the end of the file instead of dropping it.
    content = "\n".join(prefix + lines) + "\n\n"
    parser = DockerfileParser(fileobj=io.BytesIO(content.encode("utf-8", "replace")), env_replace=False)
    offset = -len(prefix)
    last = len(lines) - 1
    found = sorted(
        (item["startline"] + offset, min(item["endline"] + offset, last), item["instruction"])
        for item in parser.structure
        if item["instruction"] != "COMMENT"
    )
    entries: list[_Entry] = []
    for start, end, keyword in found:
        while end > start and not lines[end].strip():
            end -= 1  # dockerfile-parse counts the blank line that ended it
        previous = entries[-1] if entries else None
        # dockerfile-parse ends an instruction at a blank line even after an
        # escape; BuildKit skips the blank line (and comment lines before it)
        # and keeps going.
        if previous is not None and _continues(_last_code_line(lines, previous), escape):
            entries[-1] = replace(previous, end=end)
        else:
            entries.append(_Entry(keyword, start, end))
    return entries


def _last_code_line(lines: list[str], entry: _Entry) -> str:
    """The entry's last line that is neither blank nor a comment."""
    for index in range(entry.end, entry.start, -1):
        if lines[index].strip() and not _COMMENT.match(lines[index]):
            return lines[index]
    return lines[entry.start]


def _split(text: str, line: int, column: int, escape: str) -> Iterator[_Word]:
    """Whitespace-separated words of one physical line, quotes removed, from `column`."""
    if "'" not in text and '"' not in text and escape not in text:
        for m in _PLAIN_WORD.finditer(text, column):
            yield _Word(m.group(0), m.group(0), line, m.start(), m.end())
        return
    i, n = column, len(text)
    while i < n:
        if text[i] in " \t":
            i += 1
            continue
        start, chars, quote = i, [], ""
        while i < n:
            c = text[i]
            if quote:
                if c == quote:
                    quote = ""
                elif c == escape and quote == '"' and i + 1 < n:
                    i += 1
                    chars.append(text[i])
                else:
                    chars.append(c)
            elif c in " \t":
                break
            elif c in "\"'":
                quote = c
            elif c == escape and i + 1 < n:
                i += 1
                chars.append(text[i])
            else:
                chars.append(c)
            i += 1
        yield _Word("".join(chars), text[start:i], line, start, i)


def _expand(text: str, known: dict[str, str | None]) -> tuple[str, bool]:
    """Substitute `$VAR`, `${VAR}`, `${VAR:-x}`, `${VAR:+x}` from known values."""
    resolved = True

    def one(m: re.Match[str]) -> str:
        nonlocal resolved
        name = m.group(1) or m.group(4)
        value = known.get(name)
        if value is None:
            resolved = False
            return m.group(0)
        op, word = m.group(2), m.group(3) or ""
        if op in (":-", "-"):
            return value if value or op == "-" else word
        if op in (":+", "+"):
            return word if value or op == "+" else ""
        return value

    return _VAR.sub(one, text), resolved


class _Builder:
    """Walks the instructions of one file and builds its Image."""

    def __init__(self, text: str, path: str, result: ParseResult) -> None:
        self.path = path
        self.lines = text.split("\n")
        self.result = result
        self.escape = escape_char(self.lines)
        self.global_args: dict[str, str | None] = {}
        self.stages: list[_StageBuilder] = []
        self.named: dict[str, _StageBuilder] = {}
        self.stray: _StageBuilder | None = None  # instructions before any FROM
        self.reported_unknown = False

    # -- locations ---------------------------------------------------------

    def span(self, word: _Word) -> Span:
        return Span(self.path, word.line + 1, word.start + 1, word.line + 1, word.end + 1)

    def located(self, word: _Word, value: str | None = None, resolved: bool = True) -> Located[str]:
        return Located(word.value if value is None else value, self.span(word), word.raw, resolved)

    def problem(self, line: int, message: str, column: int = 1) -> None:
        self.result.problems.append(Problem(Span.point(self.path, line + 1, column), message))

    def is_filler(self, index: int) -> bool:
        """A comment or blank line inside a continued instruction: Docker drops it."""
        line = self.lines[index]
        return not line.strip() or _COMMENT.match(line) is not None

    def physical(self, entry: _Entry, first: int) -> Iterator[tuple[int, str]]:
        """The instruction's lines from `first` as Docker joins them: fillers
        dropped, the escape that continues a line removed."""
        for index in range(first, entry.end + 1):
            if index > first and self.is_filler(index):
                continue
            text = self.lines[index].rstrip()
            yield index, text[:-1] if _continues(text, self.escape) else text

    def iter_words(self, entry: _Entry, skip: int = 1) -> Iterator[_Word]:
        """The instruction's words after its first `skip` words (the keyword), lazily:
        a long RUN chain is only split as far as the caller looks."""
        words = (w for index, text in self.physical(entry, entry.start) for w in _split(text, index, 0, self.escape))
        return itertools.islice(words, skip, None)

    def words(self, entry: _Entry, skip: int = 1) -> list[_Word]:
        return list(self.iter_words(entry, skip))

    # -- the walk ----------------------------------------------------------

    def build(self) -> None:
        entries = _segment(self.lines, self.escape)
        i = 0
        while i < len(entries):
            entry = entries[i]
            i += 1
            heredocs: list[_Heredoc] = []
            if entry.keyword in _HEREDOC_KEYWORDS:
                heredocs = self.heredocs(entry)
            if heredocs:
                # dockerfile-parse read the bodies as instructions. None of
                # those can run past the terminator: it is a line of its own
                # and never ends in an escape, so it ends any continuation.
                last = min(heredocs[-1].body.stop, len(self.lines) - 1)
                while i < len(entries) and entries[i].start <= last:
                    i += 1
            self.instruction(entry, heredocs)
        self.finish()

    def heredocs(self, entry: _Entry) -> list[_Heredoc]:
        if not any("<<" in self.lines[i] for i in range(entry.start, entry.end + 1)):
            return []
        words = self.words(entry)
        while words and words[0].raw.startswith("--"):
            words.pop(0)
        markers = [w for w in words if _HEREDOC.match(w.raw)]
        if not markers or self.exec_form(entry, words) is not None:
            return []
        out: list[_Heredoc] = []
        index = entry.end + 1
        for marker in markers:
            m = _HEREDOC.match(marker.raw)
            assert m is not None
            chomp, name = m.group(2) == "-", m.group(4)
            start = index
            while index < len(self.lines):
                line = self.lines[index].lstrip("\t") if chomp else self.lines[index]
                if line == name:
                    break
                index += 1
            terminated = index < len(self.lines)
            if not terminated:
                self.problem(marker.line, f"heredoc <<{name} is never terminated (no line '{name}')", marker.start + 1)
            out.append(_Heredoc(marker, m.end(), range(start, index), terminated))
            index += 1
        return out

    def instruction(self, entry: _Entry, heredocs: list[_Heredoc]) -> None:
        keyword = entry.keyword
        if keyword not in INSTRUCTIONS:
            if not self.reported_unknown:
                self.reported_unknown = True
                self.problem(entry.start, f"unknown instruction: {self.lines[entry.start].split()[0]}")
            return
        if keyword == "FROM":
            self.from_(entry)
            return
        if keyword == "ARG" and not self.stages and self.stray is None:
            self.declare_args(entry, self.global_args, {})
            return
        stage = self.current(entry)
        if keyword == "ARG":
            self.declare_args(entry, stage.args, stage.env)
        elif keyword == "ENV":
            self.declare_env(entry, stage)
        elif keyword == "USER":
            self.user(entry, stage)
        elif keyword == "SHELL":
            self.shell(entry, stage)
        elif keyword == "RUN":
            stage.runs.append(self.run(entry, heredocs, stage, skip=1))
        elif keyword in ("ENTRYPOINT", "CMD"):
            process = self.process(entry, keyword, stage, self.words(entry))
            if keyword == "CMD":
                stage.cmd, stage.cmd_here = process, True
            else:
                stage.entrypoint = process
                if not stage.cmd_here:
                    stage.cmd = None
        elif keyword == "HEALTHCHECK":
            self.healthcheck(entry, stage)
        elif keyword in ("COPY", "ADD"):
            self.copy(entry, stage)
        elif keyword == "EXPOSE":
            self.expose(entry, stage)
        elif keyword == "WORKDIR":
            words = self.words(entry)
            if words:
                value, _ = _expand(words[0].value, {**stage.args, **stage.env})
                stage.workdir = posixpath.normpath(posixpath.join(stage.workdir, value))
        elif keyword == "ONBUILD":
            inner = self.words(entry)
            if inner and inner[0].value.upper() == "RUN":
                stage.runs.append(self.run(entry, [], stage, skip=2))

    def current(self, entry: _Entry) -> _StageBuilder:
        if self.stages:
            return self.stages[-1]
        if self.stray is None:
            self.problem(entry.start, f"{entry.keyword} before the first FROM instruction")
            nowhere = Span.point(self.path, 1)
            self.stray = _StageBuilder(Located("", nowhere, "", resolved=False), None, nowhere, {})
        return self.stray

    def finish(self) -> None:
        stages = ([self.stray] if self.stray is not None else []) + self.stages
        if not self.stages:
            self.problem(0, "no FROM instruction: not a complete Dockerfile")
        if not stages:
            return
        final = stages[-1]
        self.result.images.append(Image(self.path, final.span, tuple(s.freeze() for s in stages)))

    # -- instructions ------------------------------------------------------

    def from_(self, entry: _Entry) -> None:
        words = [w for w in self.words(entry) if not w.raw.startswith("--")]
        first = self.lines[entry.start]
        keyword_col = len(first) - len(first.lstrip())
        span = Span(self.path, entry.start + 1, keyword_col + 1, entry.start + 1, len(first.rstrip()) + 1)
        if not words:
            self.problem(entry.start, "FROM without an image")
            base = Located("", span, "", resolved=False)
        else:
            value, resolved = _expand(words[0].value, self.global_args)
            base = self.located(words[0], value, resolved)
        name = words[2].value if len(words) >= 3 and words[1].value.lower() == "as" else None
        parent = self.named.get(base.value.lower()) if base.resolved else None
        stage = _StageBuilder(base, name, span, dict(parent.env) if parent else {})
        if parent is not None:
            stage.users = list(parent.users)
            stage.posix_shell = parent.posix_shell
            stage.entrypoint, stage.healthcheck, stage.workdir = parent.entrypoint, parent.healthcheck, parent.workdir
            stage.exposes = list(parent.exposes)
            stage.parent = self.stages.index(parent) + (1 if self.stray is not None else 0)
            stage.cmd = parent.cmd  # until this stage sets an ENTRYPOINT, which resets it as Docker does
        self.stages.append(stage)
        if name:
            self.named[name.lower()] = stage

    def declare_args(self, entry: _Entry, into: dict[str, str | None], env: dict[str, str | None]) -> None:
        for word in self.words(entry):
            name, eq, default = word.value.partition("=")
            if eq:
                value, resolved = _expand(default, {**into, **env})
                into[name] = value if resolved else None
            elif into is not self.global_args and self.global_args.get(name) is not None:
                into[name] = self.global_args[name]
            else:
                into[name] = None

    def declare_env(self, entry: _Entry, stage: _StageBuilder) -> None:
        words = self.words(entry)
        if not words:
            return
        if "=" in words[0].value:
            pairs = [w.value.partition("=")[::2] for w in words]
        else:  # the legacy `ENV NAME value with spaces` form
            pairs = [(words[0].value, " ".join(w.value for w in words[1:]))]
        for name, raw in pairs:
            value, resolved = _expand(raw, {**stage.args, **stage.env})
            stage.env[name] = value if resolved else None

    def user(self, entry: _Entry, stage: _StageBuilder) -> None:
        words = self.words(entry)
        if not words:
            self.problem(entry.start, "USER without a user")
            return
        value, resolved = _expand(words[0].value, {**stage.args, **stage.env})
        stage.users.append(self.located(words[0], value, resolved))

    def shell(self, entry: _Entry, stage: _StageBuilder) -> None:
        try:
            argv = json.loads(self.joined(entry, self.words(entry)))
        except ValueError:
            return
        if isinstance(argv, list) and argv and isinstance(argv[0], str):
            program = re.split(r"[\\/]", argv[0])[-1].lower().removesuffix(".exe")
            stage.posix_shell = program not in _NON_POSIX_SHELLS

    # -- run time ----------------------------------------------------------

    def process(self, entry: _Entry, origin: str, stage: _StageBuilder, words: list[_Word]) -> Process | None:
        """ENTRYPOINT, CMD or a healthcheck's command: exec form as one command
        (and its `sh -c` script), shell form as the script `/bin/sh -c` runs."""
        if not words:
            return None
        first, last = words[0], words[-1]
        span = Span(self.path, first.line + 1, first.start + 1, last.line + 1, last.end + 1)
        argv = self.exec_form(entry, words)
        if argv is None and not stage.posix_shell:
            return Process(origin, span, (), False, "a shell form under a non-POSIX SHELL")
        embedded: list[Problem] = []
        if argv is not None:
            found = self.exec_command(argv, embedded=embedded)
        else:
            found, problems = _commands.commands(self.shell_text(entry, words[0]), self.path,
                                                 first_line=entry.start + 1, embedded=embedded)
            embedded.extend(problems)
        unresolved = [w.raw for c in found for w in c.words[c.program:c.program + 1] if not w.resolved]
        why = embedded[0].message if embedded else f"runs {unresolved[0]}, known only at run time" if unresolved else ""
        return Process(origin, span, tuple(found), not why, why)

    def healthcheck(self, entry: _Entry, stage: _StageBuilder) -> None:
        words = [w for w in self.words(entry) if not w.raw.startswith("--")]
        if words and words[0].value.upper() == "NONE":
            stage.healthcheck = None
        elif len(words) > 1 and words[0].value.upper() == "CMD":
            stage.healthcheck = self.process(entry, "HEALTHCHECK", stage, words[1:])

    def copy(self, entry: _Entry, stage: _StageBuilder) -> None:
        words = self.words(entry)
        flags = [w.value for w in words if w.raw.startswith("--")]
        paths = [w for w in words if not w.raw.startswith("--")]
        if not paths or any(_HEREDOC.match(w.raw) for w in paths):
            return  # `COPY <<EOF /file`: the file's text is right here, not in the context
        argv = self.exec_form(entry, paths) if paths[0].raw.startswith("[") else None
        names = [w.value for w in (argv if argv is not None else paths)]
        if len(names) < 2:
            return
        source = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
        env = {**stage.args, **stage.env}
        dest, _ = _expand(names[-1], env)
        stage.copies.append(Copy(self.span(paths[0]), tuple(_expand(n, env)[0] for n in names[:-1]),
                                 dest, source, stage.workdir))

    def expose(self, entry: _Entry, stage: _StageBuilder) -> None:
        for word in self.words(entry):
            value, resolved = _expand(word.value, {**stage.args, **stage.env})
            number = value.split("/", 1)[0]
            if resolved and number.isdigit():
                stage.exposes.append(Located(int(number), self.span(word), word.raw))

    # -- RUN ---------------------------------------------------------------

    def run(self, entry: _Entry, heredocs: list[_Heredoc], stage: _StageBuilder, *, skip: int) -> RunInstruction:
        flags: list[_Word] = []
        words: list[_Word] = []  # the first two after the flags: all that is needed here
        for word in self.iter_words(entry, skip):
            if not words and word.raw.startswith("--"):
                flags.append(word)
            elif len(words) < 2:
                words.append(word)
            else:
                break
        end_line = min(heredocs[-1].body.stop, len(self.lines) - 1) if heredocs else entry.end
        first = self.lines[entry.start]
        span = Span(
            self.path, entry.start + 1, len(first) - len(first.lstrip()) + 1,
            end_line + 1, len(self.lines[end_line].rstrip()) + 1,
        )
        located_flags = tuple(self.located(f) for f in flags)
        if not words:
            return RunInstruction(span, located_flags, ())
        argv = self.exec_form(entry, words)
        if argv is not None:
            found = self.exec_command(argv)
        elif stage.posix_shell:
            found = self.shell_form(entry, words, heredocs)
        else:
            found = []
        return RunInstruction(span, located_flags, tuple(found))

    def joined(self, entry: _Entry, words: list[_Word]) -> str:
        """The instruction's text from the first of `words`, continuations and comments removed."""
        if not words:
            return ""
        first = words[0]
        parts = self.physical(entry, first.line)
        return "".join(text[first.start:] if index == first.line else text for index, text in parts)

    def exec_form(self, entry: _Entry, words: list[_Word]) -> list[_Word] | None:
        """The JSON array's strings as words, or None when this is shell form."""
        if not words[0].raw.startswith("["):
            return None
        try:
            argv = json.loads(self.joined(entry, words))
        except ValueError:
            return None  # not valid JSON: Docker runs it as shell form
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            return None
        tokens: list[_Word] = []
        for index, text in self.physical(entry, words[0].line):
            column = words[0].start if index == words[0].line else 0
            for m in _JSON_STRING.finditer(text, column):
                tokens.append(_Word(json.loads(m.group(0)), m.group(0), index, m.start(), m.end()))
        if len(tokens) != len(argv):
            return None
        return tokens

    def exec_command(self, argv: list[_Word], embedded: list[Problem] | None = None) -> list[Command]:
        if not argv:
            return []
        span = Span(self.path, argv[0].line + 1, argv[0].start + 1, argv[-1].line + 1, argv[-1].end + 1)
        found = [_commands.command([self.located(w) for w in argv], span)]
        # ["sh", "-c", "script"]: the script is shell, parsed like a shell-form RUN.
        script = _commands.embedded_script(found[0])
        if script is not None:
            text, line = script
            found += self.parse_shell(text, line - 1, embedded)
        return found

    def parse_shell(self, text: str, first_line: int, problems_to: list[Problem] | None = None) -> list[Command]:
        """Commands of a shell text whose line 0 is `first_line` (0-based); its
        syntax errors are this file's unless `problems_to` takes them."""
        # Through an embedded region of whole lines (columns kept): the shell's
        # positions are the Dockerfile's, so only the first line is passed on.
        region = Region.from_lines(self.path, [(t, first_line + 1 + i, 1) for i, t in enumerate(text.split("\n"))])
        found, problems = region.parse_with(functools.partial(_commands.commands, embedded=[]), first_line=True)
        (self.result.problems if problems_to is None else problems_to).extend(problems)
        return found

    def shell_form(self, entry: _Entry, words: list[_Word], heredocs: list[_Heredoc]) -> list[Command]:
        # Only the heredoc on the command line: Docker runs its body as the script.
        if len(heredocs) == 1 and len(words) == 1 and words[0] == heredocs[0].marker:
            return self.script(heredocs[0])
        # The shell parser sees the command line without the `<<EOF` markers (a
        # redirection before the command name trips tree-sitter-bash) and never
        # the bodies, which are data unless a shell reads them.
        markers = [(d.marker.line, d.marker.start, d.marker.start + d.width) for d in heredocs]
        line_commands = self.parse_shell(self.shell_text(entry, words[0], markers), entry.start)
        found = list(line_commands)
        for doc in heredocs:
            owner = self.owner(doc.marker, line_commands)
            if owner is not None and owner.argv in (("cat",), ("cat", "-")):
                owner = self.piped_to(owner, line_commands)
            if owner is not None and _feeds_stdin(owner):
                found += self.script(doc)  # `RUN <<EOF bash`: the body is the shell's script
        return found

    def owner(self, marker: _Word, found: list[Command]) -> Command | None:
        """The command a heredoc redirection belongs to: the one before it, unless an
        operator (`&&`, `;`, `|`) lies between them, then the one after it."""
        at = (marker.line + 1, marker.start + 1)
        before = [c for c in found if (c.span.line, c.span.column) < at]
        after = [c for c in found if (c.span.line, c.span.column) > at]
        if not before or not after:
            return before[-1] if before else after[0] if after else None
        previous = before[-1]
        if (previous.span.end_line, previous.span.end_column) > at:
            return previous
        gap = self.between(previous.span.end_line - 1, previous.span.end_column - 1, marker.line, marker.start)
        return after[0] if _OPERATOR.search(gap) else previous

    def piped_to(self, command: Command, found: list[Command]) -> Command:
        """The command `command` pipes into (`cat <<EOF | sh`), else `command` itself."""
        end = (command.span.end_line, command.span.end_column)
        later = [c for c in found if (c.span.line, c.span.column) >= end]
        if not later:
            return command
        nxt = later[0]
        gap = self.between(end[0] - 1, end[1] - 1, nxt.span.line - 1, nxt.span.column - 1)
        return nxt if _OPERATOR.findall(gap) == ["|"] else command

    def between(self, line: int, column: int, end_line: int, end_column: int) -> str:
        if line == end_line:
            return self.lines[line][column:end_column]
        return "\n".join([self.lines[line][column:], *self.lines[line + 1:end_line], self.lines[end_line][:end_column]])

    def shell_text(self, entry: _Entry, first: _Word, blanks: Sequence[tuple[int, int, int]] = ()) -> str:
        """The instruction's lines with the keyword, flags and `blanks` spaced out, columns kept."""
        out: list[str] = []
        for index in range(entry.start, entry.end + 1):
            # Docker continues `\ ` with trailing blanks too; bash would not.
            line = self.lines[index].rstrip()
            if index < first.line:
                line = ""  # only the keyword and flags: nothing for the shell
            elif index > first.line and self.is_filler(index):
                # Docker drops these lines; an escaped empty line keeps the
                # shell's continuation going just as Docker's joining does.
                line = "\\"
            elif index == first.line:
                line = " " * first.start + line[first.start:]
            for where, start, end in blanks:
                if where == index:
                    line = line[:start] + " " * (end - start) + line[end:]
            if self.escape == "`" and _continues(line, "`"):
                line = line[:-1] + "\\"
            out.append(line)
        return "\n".join(out)

    def script(self, doc: _Heredoc) -> list[Command]:
        body = self.lines[doc.body.start:doc.body.stop]
        if body and body[0].startswith("#!") and not _posix_shebang(body[0]):
            return []  # a Python (or other) script, not shell
        return self.parse_shell("\n".join(body), doc.body.start)


def _posix_shebang(line: str) -> bool:
    parts = line[2:].split()
    if not parts:
        return True
    program = parts[0].rsplit("/", 1)[-1]
    if program == "env" and len(parts) > 1:
        program = parts[1]
    return program in POSIX_SHELLS


def _feeds_stdin(command: Command) -> bool:
    """A shell reading its script from stdin (`bash`, `sh -e`), not `sh -c '…'` or `sh file`."""
    argv = command.argv
    if not argv or argv[0].rsplit("/", 1)[-1] not in POSIX_SHELLS:
        return False
    args = argv[1:]
    return all(a.startswith("-") and not _SHELL_C.match(a) for a in args)
