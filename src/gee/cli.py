"""The ``gee`` command: one subcommand per system.

The CLI holds no system logic. Each system has a ``cli`` module with ``add_parser(subparsers)``
that declares its subcommand and sets ``func`` on it; that module imports its system lazily so
that ``gee --help`` stays fast. A system whose package is absent is simply not listed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from gee import __version__

# The systems that may contribute a subcommand, in the order ``gee --help`` lists them.
SYSTEMS = ("kv", "web", "cache", "rpc", "orm")


def build_parser() -> argparse.ArgumentParser:
    """Return the ``gee`` parser with a subcommand for every system that is installed."""
    parser = argparse.ArgumentParser(
        prog="gee",
        description="gee: a Redis-compatible server, a web framework, a cache, RPC and an ORM.",
    )
    parser.add_argument("--version", action="version", version=f"gee {__version__}")
    sub = parser.add_subparsers(title="systems", metavar="SYSTEM", dest="system")
    for name in SYSTEMS:
        try:
            module = importlib.import_module(f"gee.{name}.cli")
        except ModuleNotFoundError as exc:
            if exc.name in (f"gee.{name}", f"gee.{name}.cli"):
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``gee`` command; return its exit code (argparse exits 2 on bad flags)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    result = func(args)
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
