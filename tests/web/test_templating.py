"""Templates: Jinja2 loading, autoescape, filters registered before or after loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from gee.web import Context, Gee
from gee.web.templating import Templates
from gee.web.testing import TestClient


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("<h1>{{ title }}</h1><p>{{ body | shout }}</p>")
    (tmp_path / "when.txt").write_text("{{ n | twice }}")
    return tmp_path


async def test_html_renders_with_autoescape_and_filters(templates: Path) -> None:
    app = Gee()

    @app.template_filter()
    def shout(s: str) -> str:
        return s.upper() + "!"

    app.load_templates(templates)

    @app.template_filter  # without parentheses too
    def reverse(s: str) -> str:
        return s[::-1]

    @app.template_filter("twice")  # after loading works too
    def double(n: int) -> int:
        return n * 2

    @app.get("/")
    async def index(c: Context) -> None:
        c.html(200, "index.html", title="<b>Gee</b>", body="hi")

    app.get("/txt", lambda c: c.html(201, "when.txt", n=21))
    async with TestClient(app) as client:
        r = await client.get("/")
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert r.text == "<h1>&lt;b&gt;Gee&lt;/b&gt;</h1><p>HI!</p>"
        r = await client.get("/txt")
        assert (r.status_code, r.text) == (201, "42")


async def test_html_without_templates_is_a_500_that_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Gee()
    app.get("/", lambda c: c.html(200, "x.html"))
    async with TestClient(app) as client:
        assert (await client.get("/")).status_code == 500
    assert "load_templates" in caplog.text


def test_missing_template_directory_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="template directory"):
        Gee().load_templates(tmp_path / "nope")


def test_templates_alone(templates: Path) -> None:
    t = Templates()
    t.add_filter("shout", str.upper)
    t.add_global("site", "gee")
    t.load(templates)
    assert t.render("index.html", {"title": "&", "body": "x"}) == "<h1>&amp;</h1><p>X</p>"


def test_filter_registered_without_parentheses(templates: Path) -> None:
    app = Gee()

    @app.template_filter
    def shout(s: str) -> str:
        return s[::-1]

    app.load_templates(templates)
    assert shout("ab") == "ba"  # the function itself is returned, not a wrapper
    assert app.templates.render("index.html", {"title": "t", "body": "xy"}) == "<h1>t</h1><p>yx</p>"


def test_template_filter_refuses_what_is_not_a_function_or_a_name() -> None:
    app = Gee()
    with pytest.raises(TypeError, match="a function or a name, not 3"):
        app.template_filter(3)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="a function, not 'x'"):
        app.template_filter("name")("x")  # type: ignore[type-var]
    assert app.templates.filters == {}
