"""One small registry class: names (and aliases) -> objects of one kind, checked on entry.

The degradation types, the clean sources and the model backends each live in one
``Registry``. An entry is added eagerly with the ``register`` decorator (or ``add``), or
lazily with ``add_lazy(name, "package.module:object")``: the module is imported only when
the name is looked up, so a backend's heavy libraries are not loaded just to list the
choices of the command line. Every object, eager or lazy, passes the registry's type check
before it can be returned.

>>> from medqdeg.dataset_builder.registry import Registry
>>> shapes = Registry("shape", accepts=callable, expected="a function")
>>> @shapes.register("square", aliases=("box",), sides=4)
... def square(size): return size * size
>>> shapes.get("box") is square, shapes.canonical("box"), shapes.metadata("square")["sides"]
(True, 'square', 4)
>>> shapes.get("circle")
Traceback (most recent call last):
...
medqdeg.dataset_builder.errors.InvalidInputError: field `shape` is 'circle', an unknown shape; expected one of square
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from .errors import InvalidInputError

T = TypeVar("T")


@dataclass
class _Entry:
    """One registered name: its object, or (``lazy``) the ``"module:object"`` path it is imported from."""

    target: Any
    lazy: bool
    metadata: Mapping[str, Any] = field(default_factory=dict)


class Registry(Generic[T]):
    """Names of one ``kind`` (``"source"``, ``"backend"``...) mapped to checked objects.

    ``accepts(obj)`` is the type check every registered object must pass; ``expected``
    says in words what it accepts, for the error when one does not. Names and aliases
    share one namespace: registering either twice is an error. ``names()`` lists the
    names (not the aliases), sorted; ``get`` and ``canonical`` take either.
    """

    def __init__(self, kind: str, *, accepts: Callable[[Any], bool], expected: str):
        self.kind = kind
        self._accepts = accepts
        self._expected = expected
        self._entries: dict[str, _Entry] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, *, aliases: Iterable[str] = (), **metadata: Any) -> Callable[[T], T]:
        """Decorator: register the decorated object under ``name`` (and ``aliases``), with ``metadata``."""
        def decorator(obj: T) -> T:
            self.add(name, obj, aliases=aliases, **metadata)
            return obj
        return decorator

    def add(self, name: str, obj: T, *, aliases: Iterable[str] = (), **metadata: Any) -> None:
        """Register ``obj`` under ``name`` now; it must pass the type check."""
        self._check(name, obj)
        self._insert(name, _Entry(obj, lazy=False, metadata=metadata), aliases)

    def add_lazy(self, name: str, target: str, *, aliases: Iterable[str] = (), **metadata: Any) -> None:
        """Register ``"package.module:object"`` under ``name``; imported and checked by ``get``."""
        module, _, attribute = target.partition(":")
        if not module or not attribute:
            raise InvalidInputError("target", f"is {target!r}", "'package.module:object'", item=name)
        self._insert(name, _Entry(target, lazy=True, metadata=metadata), aliases)

    def get(self, name: str) -> T:
        """The object registered under ``name`` or one of its aliases.

        A lazy entry is looked up in its module at every call (Python imports the module
        once), so it is always the module's current object, checked."""
        canonical = self.canonical(name)
        entry = self._entries[canonical]
        if not entry.lazy:
            return entry.target
        module, _, attribute = entry.target.partition(":")
        obj = getattr(importlib.import_module(module), attribute)
        self._check(canonical, obj)
        return obj

    def canonical(self, name: str) -> str:
        """The registered name that ``name`` is, or is an alias of; else an error listing the names."""
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        raise InvalidInputError(self.kind, f"is {name!r}, an unknown {self.kind}", f"one of {', '.join(self.names())}")

    def metadata(self, name: str) -> Mapping[str, Any]:
        """The metadata given when ``name`` (or the name it is an alias of) was registered; read-only."""
        return MappingProxyType(self._entries[self.canonical(name)].metadata)

    def names(self) -> list[str]:
        """The registered names, sorted (aliases not included): the choices of a command line."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._aliases

    def _check(self, name: str, obj: Any) -> None:
        if not self._accepts(obj):
            raise InvalidInputError(self.kind, f"registers an object of type {type(obj).__name__}", self._expected,
                                    item=name)

    def _insert(self, name: str, entry: _Entry, aliases: Iterable[str]) -> None:
        aliases = tuple(aliases)
        for key in (name, *aliases):
            if key in self:
                raise InvalidInputError("name", f"{key!r} is registered twice", f"a unique {self.kind} name or alias",
                                        item=name)
        if len(set(aliases)) != len(aliases) or name in aliases:
            raise InvalidInputError("aliases", f"repeat a name: {aliases}", "distinct aliases", item=name)
        self._entries[name] = entry
        self._aliases.update(dict.fromkeys(aliases, name))
