"""Templates: Jinja2 with autoescape on, and filters registered on the app (gin's FuncMap).

Filters may be registered before or after the templates are loaded; both orders work.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2


class Templates:
    """A Jinja2 environment over a directory; ``render(name, data)`` gives the page text.

    ``autoescape`` is on for every template, whatever its file extension, because an HTML page
    that forgets to escape one value is an injection hole.
    """

    def __init__(self) -> None:
        self.filters: dict[str, Callable[..., Any]] = {}
        self.globals: dict[str, Any] = {}
        self._env: jinja2.Environment | None = None

    def load(self, directory: str | os.PathLike[str]) -> None:
        """Serve templates from ``directory`` (templates are re-read when their file changes)."""
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"template directory {os.fspath(directory)!r} does not exist")
        import jinja2  # here, not at the top: most apps never render a template

        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            autoescape=True,
        )
        env.filters.update(self.filters)
        env.globals.update(self.globals)
        self._env = env

    def add_filter(self, name: str, func: Callable[..., Any]) -> None:
        self.filters[name] = func
        if self._env is not None:
            self._env.filters[name] = func

    def add_global(self, name: str, value: Any) -> None:
        self.globals[name] = value
        if self._env is not None:
            self._env.globals[name] = value

    def render(self, name: str, data: Mapping[str, Any]) -> str:
        """Render template ``name`` with ``data``."""
        if self._env is None:
            raise RuntimeError("no templates loaded: call app.load_templates(directory) first")
        return self._env.get_template(name).render(data)
