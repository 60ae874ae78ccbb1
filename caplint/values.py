"""`value`: how caplint declares its value classes (the model, settings, rules).

A value class lists its fields as annotations, with defaults where it has
them (`field(default_factory=list)` for a fresh list each time), and gets an
`__init__` taking them in order, a field-by-field `__eq__`, `__hash__` and
`__repr__`, like a dataclass. Its fields never change after it is made: the
type checker keeps that promise (the decorator is declared to mypy as a
frozen `dataclass_transform`, PEP 681, and `mypy --strict` runs in the tests).

Why not `@dataclass(frozen=True, slots=True)`: caplint defines some thirty of
these classes on every start-up, and the standard decorator compiles five or
six generated functions per class (frozen adds two, slots builds the class a
second time, and every string annotation is checked against ClassVar and
InitVar with a regex). On a one-file run that was a tenth of caplint's own
time (bench/README.md). Here a class costs one compile of its `__init__`,
and only when its first instance is made; frozen instances also paid
`object.__setattr__` per field, which a parser that makes thousands of
`Located` values per file feels.
"""
from __future__ import annotations

import sys
from operator import attrgetter
from types import CodeType
from typing import TYPE_CHECKING, Any, Callable, TypeVar, cast

from caplint.cache import Store

T = TypeVar("T")

_FIELDS = "__value_fields__"
MISSING: Any = object()


class _Factory:
    """What `field(default_factory=…)` leaves on the class until `_build` reads it."""

    __slots__ = ("default_factory",)

    def __init__(self, default_factory: Callable[[], Any]) -> None:
        self.default_factory = default_factory


def field(*, default_factory: Callable[[], T]) -> T:
    """A field whose default is made afresh for each instance (a list, a dict),
    as `dataclasses.field(default_factory=…)`, which is accepted too; this one
    spares the `dataclasses` import."""
    return cast(T, _Factory(default_factory))


if TYPE_CHECKING:
    from typing_extensions import dataclass_transform

    @dataclass_transform(frozen_default=True, field_specifiers=(field,))
    def value(cls: type[T]) -> type[T]: ...

    @dataclass_transform(field_specifiers=(field,))
    def record(cls: type[T]) -> type[T]: ...

else:

    def value(cls):
        return _build(cls)

    def record(cls):
        """A value class whose fields may be assigned (a parser's working
        state, ParseResult): the same methods, but unhashable, like a
        dataclass with `eq=True`."""
        cls = _build(cls)
        cls.__hash__ = None
        return cls


def _build(cls: type[T]) -> type[T]:
    own = cls.__dict__.get("__annotations__", {})
    inherited: tuple[str, ...] = getattr(cls, _FIELDS, ())
    names = (*inherited, *(n for n in own if n not in inherited))
    with_default = False
    for name in names:
        if name in cls.__dict__ or name in inherited and _inherited_default(cls, name) is not MISSING:
            with_default = True
        elif with_default:
            raise TypeError(f"{cls.__name__}: field {name!r} without a default follows one with a default")
    qualname = cls.__qualname__
    key = attrgetter(*names) if names else _no_fields
    setattr(cls, "__init__", _first_init(cls, names, inherited, qualname))
    setattr(cls, "__eq__", _eq(key, qualname))
    setattr(cls, "__hash__", _hash(key, qualname))
    setattr(cls, "__repr__", _repr)
    setattr(cls, _FIELDS, names)
    setattr(cls, "__match_args__", names)
    return cls


# Only `__init__` is generated, and only when the class is first instantiated:
# most runs make instances of a few of the classes defined at start-up, and
# writing and compiling it is what costs (the classes are defined on every
# start). Equality, hashing and repr need no generated code: `attrgetter`
# with the field names gives the tuple a dataclass would compare.

def _first_init(cls: type, names: tuple[str, ...], inherited: tuple[str, ...], qualname: str) -> Callable[..., None]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if cls.__dict__["__init__"] is __init__:
            source, namespace = _init_source(cls, names, inherited)
            exec(_init_code(source, f"<value {cls.__module__}.{qualname}>"), namespace)
            init = namespace["__init__"]
            init.__qualname__ = f"{qualname}.__init__"
            setattr(cls, "__init__", init)
        cls.__dict__["__init__"](self, *args, **kwargs)
    __init__.__qualname__ = f"{qualname}.__init__"
    return __init__


def _init_source(cls: type, names: tuple[str, ...], inherited: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """The source of the class's `__init__`, and the names it refers to
    (`inherited`: the fields of its value-class bases)."""
    namespace: dict[str, Any] = {"_MISSING": MISSING}
    params, body = [], []
    for name in names:
        default = cls.__dict__.get(name, MISSING)
        if default is MISSING and name in inherited:
            default = _inherited_default(cls, name)
        default = _from_dataclasses_field(default)
        if isinstance(default, _Factory):
            namespace[f"_factory_{name}"] = default.default_factory
            params.append(f"{name}=_MISSING")
            body.append(f"    self.{name} = _factory_{name}() if {name} is _MISSING else {name}")
            _remove_class_default(cls, name)
            continue
        if default is MISSING:
            params.append(name)
        else:
            namespace[f"_default_{name}"] = default
            params.append(f"{name}=_default_{name}")
        body.append(f"    self.{name} = {name}")
    return "\n".join([f"def __init__(self, {', '.join(params)}):", *(body or ["    pass"])]), namespace


# The compiled `__init__`s are also kept on disk (caplint.cache), the way Python
# keeps a module's bytecode in a .pyc: compiling one costs ~0.1 ms and a
# one-file run makes instances of some twenty classes, which was a tenth of
# its own time. The file maps each generated source to its code object; a
# source that changes (a field added) is simply a new entry.
_INITS = Store("value-inits", "1")


def _init_code(source: str, filename: str) -> CodeType:
    key = f"{filename}\n{source}"
    code = _INITS.get(key)
    if not isinstance(code, CodeType):
        code = compile(source, filename, "exec")
        _INITS.put(key, code)
    return code


def _no_fields(obj: object) -> tuple[()]:
    return ()


def _eq(key: Callable[[Any], Any], qualname: str) -> Callable[[Any, object], Any]:
    def __eq__(self: Any, other: object) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return key(self) == key(other)
    __eq__.__qualname__ = f"{qualname}.__eq__"
    return __eq__


def _hash(key: Callable[[Any], Any], qualname: str) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(key(self))
    __hash__.__qualname__ = f"{qualname}.__hash__"
    return __hash__


def _repr(self: Any) -> str:
    shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in getattr(self, _FIELDS))
    return f"{self.__class__.__qualname__}({shown})"


def _from_dataclasses_field(default: Any) -> Any:
    """A `dataclasses.field(…)` as what it stands for: a _Factory, its default, or MISSING.
    (No such field exists unless something imported dataclasses.)"""
    dataclasses = sys.modules.get("dataclasses")
    if dataclasses is None or not isinstance(default, dataclasses.Field):
        return default
    if default.default_factory is not dataclasses.MISSING:
        return _Factory(default.default_factory)
    return MISSING if default.default is dataclasses.MISSING else default.default


def _inherited_default(cls: type, name: str) -> Any:
    for base in cls.__mro__[1:]:
        if name in base.__dict__ and name in getattr(base, _FIELDS, ()):
            return base.__dict__[name]
    return MISSING


def _remove_class_default(cls: type, name: str) -> None:
    # A Field object left on the class would be what `obj.name` shows if an
    # instance ever lacked the attribute; better an AttributeError.
    if name in cls.__dict__:
        delattr(cls, name)


def fields(obj: object) -> tuple[str, ...]:
    """The field names of a value class or instance, in order."""
    names: tuple[str, ...] = getattr(obj, _FIELDS)
    return names


def is_value(obj: object) -> bool:
    return hasattr(obj, _FIELDS)


def replace(obj: T, **changes: Any) -> T:
    """A copy of `obj` with some fields changed (like `dataclasses.replace`)."""
    names = fields(obj)
    unknown = set(changes) - set(names)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {', '.join(sorted(unknown))}")
    return type(obj)(**{n: changes[n] if n in changes else getattr(obj, n) for n in names})
