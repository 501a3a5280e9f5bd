"""``gee orm migrate``: bring a database's tables to a program's models from the shell.

::

    gee orm migrate sqlite:///app.db myapp.models            # every model in the module
    gee orm migrate postgresql://u@h/db myapp.models:User --dry-run

Prints each statement (``--dry-run``: without running it). A destructive change (dropping a
column with data, narrowing a column) is refused with exit code 1 unless
``--allow-destructive`` is given. Nothing heavy is imported until the command runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gee.orm.schema import Model

__all__ = ["add_parser", "load_models", "run_migrate"]


def add_parser(subparsers: Any) -> None:
    """Declare the ``orm`` subcommand on the ``gee`` parser."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "orm", help="gee.orm tools (migrate)", description="gee.orm tools."
    )
    sub = p.add_subparsers(title="commands", metavar="COMMAND", dest="orm_command")
    m = sub.add_parser(
        "migrate",
        help="bring tables to match models",
        description="Create missing tables, add and resize columns, drop removed ones.",
    )
    m.add_argument("url", help="database URL, e.g. sqlite:///app.db")
    m.add_argument("models", nargs="+", help="module (all its models) or module:Model")
    m.add_argument("--dry-run", action="store_true", help="print the SQL, change nothing")
    m.add_argument(
        "--allow-destructive",
        action="store_true",
        help="allow dropping columns that hold data and narrowing columns",
    )
    m.set_defaults(func=run_migrate)

    def usage(args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=usage)


def load_models(specs: list[str]) -> list[type[Model]]:
    """Import ``module`` or ``module:Model`` specs; return the mapped model classes they name."""
    from gee.orm.errors import ConfigError
    from gee.orm.schema import Model, Table

    models: list[type[Model]] = []
    for spec in specs:
        module_name, _, attribute = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigError(f"cannot import {module_name!r}: {exc}") from None
        if attribute:
            found = getattr(module, attribute, None)
            if not (isinstance(found, type) and issubclass(found, Model)):
                raise ConfigError(f"{spec!r} is not a gee.orm Model")
            candidates = [found]
        else:
            candidates = [
                v
                for v in vars(module).values()
                if isinstance(v, type) and issubclass(v, Model) and v.__module__ == module.__name__
            ]
        for model in candidates:
            table = model.__dict__.get("__table__")
            if isinstance(table, Table) and model not in models:
                models.append(model)
    return models


def run_migrate(args: argparse.Namespace) -> int:
    """Run ``gee orm migrate``; exit code 0, or 1 with the reason on stderr."""
    from gee.orm.engine import Engine
    from gee.orm.errors import ORMError

    try:
        models = load_models(args.models)
        if not models:
            raise ORMError(f"no models found in {' '.join(args.models)}")
        with Engine(args.url) as engine:
            statements = engine.migrate(
                *models, allow_destructive=args.allow_destructive, dry_run=args.dry_run
            )
    except ORMError as exc:
        print(f"gee orm migrate: {exc}", file=sys.stderr)
        return 1
    for statement in statements:
        print(f"{statement};")
    if not statements:
        print("-- nothing to do", file=sys.stderr)
    return 0
