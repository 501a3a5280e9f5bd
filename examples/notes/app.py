"""Notes: a small JSON API with an HTML page, built on gee.web.

Run it with one command from the repository root::

    gee web examples.notes.app:app --port 9999

then open http://127.0.0.1:9999/ or talk to the API::

    curl -X POST localhost:9999/api/notes -d '{"title": "milk", "body": "2 litres"}'
    curl localhost:9999/api/notes

The store is a dict in memory, guarded by nothing: every handler is ``async def`` and runs on
the one event loop, so no two of them touch it at the same time.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from gee.web import Context, Gee, HTTPError
from gee.web.middleware import gzip, logger, recovery

HERE = Path(__file__).parent


class NoteIn(msgspec.Struct):
    """What a client sends to create or replace a note."""

    title: str
    body: str = ""
    tags: list[str] = []


class Note(msgspec.Struct):
    """A stored note."""

    id: int
    title: str
    body: str
    tags: list[str]
    created: datetime


class Notes:
    """The notes in memory, with ids counting up from 1."""

    def __init__(self) -> None:
        self.by_id: dict[int, Note] = {}
        self._ids = itertools.count(1)

    def add(self, data: NoteIn) -> Note:
        note = Note(next(self._ids), data.title, data.body, data.tags, datetime.now(UTC))
        self.by_id[note.id] = note
        return note

    def get(self, note_id: str) -> Note:
        note = self.by_id.get(int(note_id)) if note_id.isdigit() else None
        if note is None:
            raise HTTPError(404, f"no note {note_id}")
        return note


def create_app() -> Gee:
    """Build the app: middleware, the page, the API under /api, static files."""
    app = Gee()
    app.use(logger(), recovery(), gzip())
    app.load_templates(HERE / "templates")
    app.static("/static", HERE / "static")
    notes = Notes()

    @app.template_filter()
    def day(when: datetime) -> str:
        return when.strftime("%Y-%m-%d")

    @app.get("/", name="home")
    async def home(c: Context) -> None:
        tag = c.query("tag")
        shown = [n for n in notes.by_id.values() if tag is None or tag in n.tags]
        c.html(200, "index.html", notes=shown, tag=tag)

    api = app.group("/api")

    @api.get("/notes")
    async def list_notes(c: Context) -> list[Note]:
        return list(notes.by_id.values())

    @api.post("/notes")
    async def create_note(c: Context) -> None:
        note = notes.add(await c.bind(NoteIn))
        c.set_header("location", app.url_for("note", id=note.id))
        c.json(201, note)

    @api.get("/notes/:id", name="note")
    async def get_note(c: Context) -> Note:
        return notes.get(c.param("id"))

    @api.put("/notes/:id")
    async def replace_note(c: Context) -> Note:
        note = notes.get(c.param("id"))
        data = await c.bind(NoteIn)
        note.title, note.body, note.tags = data.title, data.body, data.tags
        return note

    @api.delete("/notes/:id")
    async def delete_note(c: Context) -> None:
        del notes.by_id[notes.get(c.param("id")).id]
        c.status(204)

    return app


app = create_app()

if __name__ == "__main__":  # python -m examples.notes.app
    app.run(port=9999)
