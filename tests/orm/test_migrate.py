"""Migrations on all three databases: create, add, drop (refused with data unless allowed)."""

from __future__ import annotations

import pytest

from gee.orm import Engine, Field, IntegrityError, Model, SchemaError, table_of
from gee.orm.migrate import Migration


class ItemV1(Model, table="items"):
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=40, index=True)
    legacy: str | None = None


class ItemV2(Model, table="items"):
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=40, index=True)
    stock: int = 0
    note: str | None = None


class Required(Model, table="items"):
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=40, index=True)
    legacy: str | None = None
    weight: float  # NOT NULL and no default: cannot be added to rows that exist


def test_creates_missing_tables_and_records_them(engine: Engine) -> None:
    applied = engine.migrate(ItemV1)
    assert applied == engine.dialect.create_table(table_of(ItemV1))
    assert engine.has_table(ItemV1)
    assert engine.migrate(ItemV1) == [], "a second run should find nothing to do"
    with engine.session() as s:
        recorded = [m.statement for m in s.query(Migration).order_by("id").all()]
    assert recorded == applied


def test_dry_run_changes_nothing(engine: Engine) -> None:
    planned = engine.migrate(ItemV1, dry_run=True)
    assert planned[0].startswith("CREATE TABLE")
    assert not engine.has_table(ItemV1)
    assert not engine.has_table(Migration)


def test_adds_columns_and_keeps_rows(engine: Engine) -> None:
    engine.migrate(ItemV1)
    with engine.session() as s:
        s.insert(ItemV1(sku="a1", name="apple", legacy="old data"))
    with pytest.raises(SchemaError, match="legacy"):
        engine.migrate(ItemV2)
    with pytest.raises(SchemaError, match=r"NOT NULL column Required\.weight"):
        engine.migrate(Required)
    applied = engine.migrate(ItemV2, allow_destructive=True)
    assert any("stock" in st for st in applied)
    with engine.session() as s:
        columns = engine.dialect.table_columns(s._connection(), "items")
        assert columns == ["id", "sku", "name", "stock", "note"], f"got columns {columns}"
        item = s.query(ItemV2).one()
        assert (item.sku, item.name, item.stock, item.note) == ("a1", "apple", 0, None)
        s.insert(ItemV2(sku="b2", name="pear", stock=3))
        assert s.query(ItemV2).where(ItemV2.stock == 3).count() == 1
        # the unique constraint survived (SQLite rebuilt the table to drop the column)
        with pytest.raises(IntegrityError):
            s.insert(ItemV2(sku="a1", name="dup"))
    assert engine.migrate(ItemV2) == []


def test_drops_empty_columns_without_asking(engine: Engine) -> None:
    engine.migrate(ItemV1)
    with engine.session() as s:
        s.insert(ItemV1(sku="a1", name="apple", legacy=None))
    assert engine.migrate(ItemV2)
    with engine.session() as s:
        assert s.query(ItemV2).one().sku == "a1"


def test_sqlite_rebuild_keeps_indexes(tmp_path: object) -> None:
    with Engine("sqlite://:memory:") as engine:
        engine.migrate(ItemV1)
        engine.migrate(ItemV2)
        with engine.session() as s:
            indexes = {row[1] for row in s.raw("PRAGMA index_list(items)")}
            tables = {row[0] for row in s.raw("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "ix_items_name" in indexes
        assert tables == {"items", "gee_migrations"}


class Short(Model, table="items"):
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=10, unique=True)
    name: str = Field(max_length=40, index=True)
    legacy: str | None = None


class Wide(Model, table="items"):
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=50, unique=True)
    name: str = Field(max_length=40, index=True)
    legacy: str | None = None


def test_widening_is_applied_and_narrowing_refused(engine: Engine) -> None:
    engine.migrate(ItemV1)
    with engine.session() as s:
        s.insert(ItemV1(sku="a1", name="apple"))
    with pytest.raises(
        SchemaError, match=r"narrow column 'sku' from VARCHAR\(20\) to VARCHAR\(10\)"
    ):
        engine.migrate(Short)
    assert engine.migrate(Wide)
    with engine.session() as s:
        assert engine.dialect.column_lengths(s._connection(), "items")["sku"] == 50
        s.insert(Wide(sku="x" * 50, name="long"))
        assert s.query(Wide).count() == 2
        with pytest.raises(IntegrityError):
            s.insert(Wide(sku="a1", name="dup"))
    assert engine.migrate(Wide) == []
    with engine.session() as s:
        s.query(Wide).where(Wide.name == "long").delete()
    assert engine.migrate(ItemV1, allow_destructive=True), "narrowing is allowed when asked"
    with engine.session() as s:
        assert engine.dialect.column_lengths(s._connection(), "items")["sku"] == 20
