"""gee.orm: a typed ORM for SQLite, PostgreSQL and MySQL/MariaDB over DB-API drivers.

::

    from gee.orm import Engine, Field, Model, col

    class User(Model, table="users"):
        id: int | None = Field(default=None, primary_key=True)
        name: str
        age: int

    with Engine("sqlite://:memory:") as engine, engine.transaction() as s:
        s.create_table(User)
        s.insert(User(name="ann", age=30))
        adults = s.query(User).where(User.age >= 18).order_by(col(User.age).desc()).all()

See docs/orm.md for the guide.
"""

from gee.orm.clause import Column, Expr, and_, col, func, not_, or_
from gee.orm.engine import Engine
from gee.orm.errors import (
    ConfigError,
    DatabaseError,
    IntegrityError,
    MultipleResultsFound,
    NoResultFound,
    OperationalError,
    ORMError,
    ProgrammingError,
    QueryError,
    SchemaError,
)
from gee.orm.migrate import migrate
from gee.orm.query import Query
from gee.orm.schema import Field, Model, table_of
from gee.orm.session import Session

__all__ = [
    "Column",
    "ConfigError",
    "DatabaseError",
    "Engine",
    "Expr",
    "Field",
    "IntegrityError",
    "Model",
    "MultipleResultsFound",
    "NoResultFound",
    "ORMError",
    "OperationalError",
    "ProgrammingError",
    "Query",
    "QueryError",
    "SchemaError",
    "Session",
    "and_",
    "col",
    "func",
    "migrate",
    "not_",
    "or_",
    "table_of",
]
