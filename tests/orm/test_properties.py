"""Property tests on every database: values round-trip unchanged; queries agree with Python.

1. A random ``Everything`` (one field of each supported type) inserted and read back by key and
   by query equals the original.
2. A random condition tree over random rows selects exactly the rows a plain Python filter over
   the same rows selects.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gee.orm import Engine, Expr, and_, col, not_, or_
from tests.orm.models import Color, Everything, Level, User

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text every database stores as given: no NUL (PostgreSQL refuses it), no lone surrogates.
text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)
json_scalar = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=10,
)

everything = st.builds(
    Everything,
    i=st.integers(-(2**63), 2**63 - 1),
    s=text,
    f=st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False),
    b=st.binary(max_size=40),
    flag=st.booleans(),
    when=st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    day=st.dates(min_value=dt.date(1000, 1, 1)),
    money=st.decimals(
        min_value=Decimal(-(10**20)), max_value=Decimal(10**20), places=8, allow_nan=False
    ),
    uid=st.uuids(),
    color=st.sampled_from(Color),
    level=st.sampled_from(Level),
    doc=st.dictionaries(text, json_value, max_size=4),
    items=st.lists(json_value, max_size=4),
    maybe=st.none() | text,
)


def test_values_round_trip(engine: Engine) -> None:
    engine.create_table(Everything)

    @PROPERTY
    @given(original=everything)
    def check(original: Everything) -> None:
        with engine.session() as s:
            s.insert(original)
            assert original.id is not None
            by_key = s.get(Everything, original.id)
            by_query = s.query(Everything).where(Everything.uid == original.uid).one()
            assert by_key == original, f"got {by_key}; want {original}"
            assert by_query == original
            assert by_key is not None
            assert type(by_key.flag) is bool
            assert type(by_key.money) is Decimal
            s.delete(original)

    check()


# A condition is built together with the Python function it should agree with.
Condition = tuple[Expr, Callable[[User], bool]]
OPS: list[tuple[str, Callable[[Any, Any], bool]]] = [
    ("==", operator.eq),
    ("!=", operator.ne),
    ("<", operator.lt),
    ("<=", operator.le),
    (">", operator.gt),
    (">=", operator.ge),
]
names = st.text("abc", min_size=0, max_size=3)
ages = st.integers(0, 9)


@st.composite
def leaf(draw: st.DrawFn) -> Condition:
    field, values = draw(st.sampled_from([("age", ages), ("name", names)]))
    column = col(getattr(User, field))
    kind = draw(st.sampled_from(["cmp", "in", "between"]))
    if kind == "in":
        options = draw(st.lists(values, max_size=3))
        return column.in_(options), lambda u: getattr(u, field) in options
    if kind == "between":
        low, high = draw(values), draw(values)
        return column.between(low, high), lambda u: low <= getattr(u, field) <= high
    symbol, op = draw(st.sampled_from(OPS))
    value = draw(values)
    expr = {
        "==": column == value,
        "!=": column != value,
        "<": column < value,
        "<=": column <= value,
        ">": column > value,
        ">=": column >= value,
    }[symbol]
    return expr, lambda u: op(getattr(u, field), value)


def combine(children: st.SearchStrategy[Condition]) -> st.SearchStrategy[Condition]:
    def both(pair: list[Condition]) -> Condition:
        return and_(*(e for e, _ in pair)), lambda u: all(f(u) for _, f in pair)

    def either(pair: list[Condition]) -> Condition:
        return or_(*(e for e, _ in pair)), lambda u: any(f(u) for _, f in pair)

    def negate(c: Condition) -> Condition:
        return not_(c[0]), lambda u: not c[1](u)

    pairs = st.lists(children, min_size=1, max_size=3)
    return pairs.map(both) | pairs.map(either) | children.map(negate)


conditions = st.recursive(leaf(), combine, max_leaves=6)
rows = st.lists(st.builds(User, name=names, age=ages), max_size=12)


def test_queries_agree_with_python(engine: Engine) -> None:
    engine.create_table(User)

    @PROPERTY
    @given(users=rows, condition=conditions)
    def check(users: list[User], condition: Condition) -> None:
        expr, matches = condition
        with engine.session() as s:
            s.query(User).delete()
            s.insert(*users)
            got = sorted(u.id for u in s.query(User).where(expr).all())  # type: ignore[type-var]
            want = sorted(u.id for u in users if matches(u))  # type: ignore[type-var]
            assert got == want, f"{s.query(User).where(expr).sql()}: got {got}; want {want}"
            assert s.query(User).where(expr).count() == len(want)

    check()
