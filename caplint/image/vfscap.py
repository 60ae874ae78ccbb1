"""The `security.capability` extended attribute (linux/capability.h, VFS_CAP).

Layout, all little-endian 32-bit words: `magic_etc` (the revision in the top
byte, the effective flag in bit 0), then `{permitted, inheritable}` for each
32 capabilities — one pair in revision 1, two in revisions 2 and 3 — and, in
revision 3, the `rootid` of the user namespace the capabilities belong to.
"""
from __future__ import annotations

import struct

from caplint import capabilities as caps
from caplint.model import FileCapability
from caplint.values import replace

_REVISIONS = {0x01000000: (1, 12), 0x02000000: (2, 20), 0x03000000: (3, 24)}
_REVISION_MASK = 0xFF000000
_EFFECTIVE = 0x000001
_NAMES = {c.number: c.name for c in caps.CAPABILITIES.values()}


class CapabilityError(ValueError):
    """The bytes are not a VFS_CAP value."""


def _names(bits: int) -> tuple[str, ...]:
    return tuple(_NAMES.get(n, str(n)) for n in range(64) if bits >> n & 1)


def decode(raw: bytes) -> FileCapability:
    if len(raw) < 4:
        raise CapabilityError(f"{len(raw)} bytes, too short for a VFS_CAP header")
    (magic,) = struct.unpack_from("<I", raw)
    revision = _REVISIONS.get(magic & _REVISION_MASK)
    if revision is None:
        raise CapabilityError(f"unknown VFS_CAP revision 0x{magic & _REVISION_MASK:08x}")
    version, size = revision
    if len(raw) != size:
        raise CapabilityError(f"VFS_CAP revision {version} is {size} bytes, this one {len(raw)}")
    if magic & ~_REVISION_MASK & ~_EFFECTIVE:
        raise CapabilityError(f"unknown VFS_CAP flags 0x{magic & ~_REVISION_MASK:06x}")
    words = struct.unpack_from(f"<{(size - 4) // 4}I", raw, 4)
    permitted = words[0] | (words[2] << 32 if version > 1 else 0)
    inheritable = words[1] | (words[3] << 32 if version > 1 else 0)
    cap = FileCapability(
        version=version,
        effective=bool(magic & _EFFECTIVE),
        permitted=_names(permitted),
        inheritable=_names(inheritable),
        rootid=words[4] if version == 3 else None,
    )
    return replace(cap, text=to_text(cap))


def encode(cap: FileCapability) -> bytes:
    """The xattr bytes for `cap` (for tests and tools that build images)."""
    numbers = {name: number for number, name in _NAMES.items()}

    def bits(names: tuple[str, ...]) -> int:
        return sum(1 << (numbers[n] if n in numbers else int(n)) for n in names)

    p, i = bits(cap.permitted), bits(cap.inheritable)
    magic = {1: 0x01000000, 2: 0x02000000, 3: 0x03000000}[cap.version] | (_EFFECTIVE if cap.effective else 0)
    words = [p & 0xFFFFFFFF, i & 0xFFFFFFFF]
    if cap.version > 1:
        words += [p >> 32, i >> 32]
    if cap.version == 3:
        words.append(cap.rootid or 0)
    return struct.pack(f"<I{len(words)}I", magic, *words)


def to_text(cap: FileCapability) -> str:
    """The capability as `getcap` prints it (libcap's cap_to_text): the flag
    combination most capabilities share is written as the base (`=`, or `=ep`
    when most are set), and each other combination as `names+flags`."""
    known = len(_NAMES)
    state: dict[str, int] = {}
    for name in cap.permitted:
        state[name] = state.get(name, 0) | 2
    for name in cap.inheritable:
        state[name] = state.get(name, 0) | 4
    if cap.effective:
        state = {name: flags | 1 for name, flags in state.items()}
    order = [_NAMES[n] for n in range(known)] + sorted(set(state) - set(_NAMES.values()), key=int)
    histogram = [0] * 8
    for name in order[:known]:
        histogram[state.get(name, 0)] += 1
    base = 7
    for t in range(6, -1, -1):
        if histogram[t] >= histogram[base]:
            base = t
    for name in order[known:]:
        histogram[state[name]] += 1
    text = "=" + _letters(base)
    for t in range(7, -1, -1):
        if t == base or not histogram[t]:
            continue
        names = ",".join(("cap_" + n.lower()) if not n.isdigit() else n for n in order if state.get(n, 0) == t)
        part = names
        raised, lowered = t & ~base, ~t & base & 7
        if raised:
            if text == "=":
                text, part = "", f"{names}={_letters(raised)}"
            else:
                part += "+" + _letters(raised)
        if lowered:
            part += "-" + _letters(lowered)
        text = f"{text} {part}" if text else part
    return text


def _letters(flags: int) -> str:
    return ("e" if flags & 1 else "") + ("i" if flags & 4 else "") + ("p" if flags & 2 else "")
