"""The command table: every command gee.kv answers, keyed by its lowercased name.

Each command module registers its functions with ``@command("name")``. A command function takes
the client and the full argument list (``args[0]`` is the command name) and appends its reply to
``client.out``; an error reply is raised as ``CommandError``. Arity, flags and key positions are
not retyped here: they come from Redis's own COMMAND INFO (``_meta.py``), so arity errors and
COMMAND replies match Redis's by construction.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import hiredis

from gee.kv.commands._meta import INFO

if TYPE_CHECKING:
    from gee.kv.connection import Client

Handler = Callable[["Client", list[bytes]], None]
H = TypeVar("H", bound=Handler)  # a handler keeps its own signature (e.g. extra defaults)


@dataclass(slots=True, eq=False)
class Command:
    """One entry of the command table."""

    name: str
    func: Handler
    # Redis's arity: N means exactly N arguments (name included), -N means at least N.
    arity: int
    flags: frozenset[str]
    first_key: int
    last_key: int
    key_step: int
    # Subcommands by lowercased name (CONFIG GET, CLIENT LIST, ...); empty for plain commands.
    subcommands: dict[bytes, Command] = field(default_factory=dict)
    # The arity as a range of argument counts, for a single comparison on the hot path.
    min_args: int = 0
    max_args: int = 0
    # The name as bytes, for CLIENT LIST's ``cmd=`` without encoding on the hot path.
    name_bytes: bytes = b""
    # Up to how many arguments (name included) the AOF records the command as it was sent,
    # so the fast path may append the request's own bytes; 0: never. Set by the AOF.
    aof_as_sent: int = 0

    def __post_init__(self) -> None:
        self.name_bytes = self.name.encode()
        self.min_args = abs(self.arity)
        self.max_args = self.arity if self.arity > 0 else 1 << 30

    @property
    def write(self) -> bool:
        """Whether the command may modify the keyspace (persistence propagates these)."""
        return "write" in self.flags

    def keys(self, args: list[bytes]) -> list[bytes]:
        """The key arguments of ``args`` per the command's first/last/step positions."""
        if self.first_key <= 0:
            return []
        last = self.last_key if self.last_key >= 0 else len(args) + self.last_key
        return args[self.first_key : last + 1 : self.key_step]


COMMANDS: dict[bytes, Command] = {}
# COMMANDS under both lowercase and uppercase names, so the hot path skips ``bytes.lower``.
FAST_TABLE: dict[bytes, Command] = {}

_SPECS: dict[str, list[object]] = {}


def _load_specs() -> None:
    for raw in INFO.values():
        reader = hiredis.Reader()
        reader.feed(raw)
        entry = reader.gets()
        _SPECS[entry[0].decode()] = entry
        for sub in entry[9]:
            _SPECS[sub[0].decode()] = sub


def command(name: str) -> Callable[[H], H]:
    """Register the decorated function as command ``name`` (``parent|sub`` for subcommands)."""

    def register(func: H) -> H:
        if not _SPECS:
            _load_specs()
        spec = _SPECS[name]
        arity, flags, first, last, step = spec[1:6]
        assert isinstance(arity, int)
        assert isinstance(flags, list)
        assert isinstance(first, int)
        assert isinstance(last, int)
        assert isinstance(step, int)
        entry = Command(name, func, arity, frozenset(f.decode() for f in flags), first, last, step)
        if "|" in name:
            parent, sub = name.split("|")
            COMMANDS[parent.encode()].subcommands[sub.encode()] = entry
        else:
            COMMANDS[name.encode()] = entry
            FAST_TABLE[name.encode()] = entry
            FAST_TABLE[name.upper().encode()] = entry
        return func

    return register


_MODULES = (
    "connection",
    "server",
    "keys",
    "strings",
    "bits",
    "lists",
    "hashes",
    "sets",
    "zsets",
    "zsetops",
    "tx",
    "pubsub",
    "scripting",
    "persistence",
)


def load_all() -> dict[bytes, Command]:
    """Import every command module (registering its commands) and return the table."""
    for module in _MODULES:
        importlib.import_module(f"gee.kv.commands.{module}")
    return COMMANDS


def container(name: str) -> None:
    """Register ``name`` as a command whose real work is in its ``name|sub`` subcommands."""
    key = name.encode()

    def dispatch(client: Client, args: list[bytes]) -> None:
        from gee.kv.errors import CommandError

        sub = COMMANDS[key].subcommands.get(args[1].lower())
        if sub is None:
            raise CommandError(
                b"ERR unknown subcommand '%s'. Try %s HELP." % (args[1][:128], key.upper())
            )
        n = len(args)
        if (sub.arity > 0 and n != sub.arity) or n < -sub.arity:
            raise CommandError(f"ERR wrong number of arguments for '{sub.name}' command")
        client.last_command = sub.name.encode()
        sub.func(client, args)

    command(name)(dispatch)
