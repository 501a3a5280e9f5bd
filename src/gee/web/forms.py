"""Form bodies: application/x-www-form-urlencoded and multipart/form-data with file uploads.

Multipart bodies are parsed as they stream in (python-multipart), and each uploaded file goes
into a SpooledTemporaryFile that moves to disk above ``app.spool_size`` bytes, so a large upload
never sits whole in memory. The app closes the form's files after the response is sent.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING
from urllib.parse import parse_qsl

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

from gee.web.errors import HTTPError

if TYPE_CHECKING:
    from gee.web.context import Context


class UploadFile:
    """One uploaded file: ``filename``, ``content_type``, ``size`` and the spooled ``file``."""

    __slots__ = ("content_type", "file", "filename", "size")

    def __init__(self, filename: str, content_type: str, file: IO[bytes]) -> None:
        self.filename = filename
        self.content_type = content_type
        self.file = file
        self.size = 0

    def read(self) -> bytes:
        """The whole file's content (rewinds first)."""
        self.file.seek(0)
        return self.file.read()

    def close(self) -> None:
        self.file.close()

    def __repr__(self) -> str:
        return f"UploadFile(filename={self.filename!r}, size={self.size})"


class FormData:
    """Form fields (several values per name allowed) and uploaded files.

    ``form["name"]`` and ``form.get("name")`` give the first value of a text field;
    ``form.getall("name")`` all of them; ``form.files["field"]`` the UploadFile(s).
    """

    def __init__(
        self,
        fields: list[tuple[str, str]] | None = None,
        files: list[tuple[str, UploadFile]] | None = None,
    ) -> None:
        self.fields = fields or []
        self.uploads = files or []

    def get(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.fields:
            if key == name:
                return value
        return default

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return any(k == name for k, _ in self.fields) or any(k == name for k, _ in self.uploads)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k for k, _ in self.fields))

    def getall(self, name: str) -> list[str]:
        return [v for k, v in self.fields if k == name]

    @property
    def files(self) -> dict[str, UploadFile]:
        """The first uploaded file of each file field."""
        out: dict[str, UploadFile] = {}
        for key, upload in self.uploads:
            out.setdefault(key, upload)
        return out

    def close(self) -> None:
        """Close (and so delete) every spooled upload."""
        for _, upload in self.uploads:
            upload.close()


async def parse_form(c: Context) -> FormData:
    """Parse ``c``'s body as a form; 400 for a malformed one, 415 for another content type."""
    ctype, options = parse_options_header(c.header("content-type", "") or "")
    if ctype == b"application/x-www-form-urlencoded":
        body = await c.body()
        try:
            pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise HTTPError(400, "form body is not UTF-8") from None
        return FormData(pairs)
    if ctype == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise HTTPError(400, "multipart/form-data without a boundary")
        return await _parse_multipart(c, boundary, c.app.spool_size)
    raise HTTPError(415, "expected a form (urlencoded or multipart/form-data)")


async def _parse_multipart(c: Context, boundary: bytes, spool_size: int) -> FormData:
    form = FormData()
    header_field = bytearray()
    header_value = bytearray()
    part_headers: dict[bytes, bytes] = {}
    state: dict[str, object] = {}
    text = bytearray()

    def on_part_begin() -> None:
        part_headers.clear()
        text.clear()
        state.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        part_headers[bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(part_headers.get(b"content-disposition", b""))
        name = disposition.get(b"name")
        if name is None:
            raise HTTPError(400, "multipart part without a name")
        state["name"] = name.decode("utf-8", "replace")
        filename = disposition.get(b"filename")
        if filename is not None:
            raw_type = part_headers.get(b"content-type", b"application/octet-stream")
            ctype = raw_type.decode("latin-1")
            spool = tempfile.SpooledTemporaryFile(max_size=spool_size)  # noqa: SIM115
            upload = UploadFile(filename.decode("utf-8", "replace"), ctype, spool)
            form.uploads.append((state["name"], upload))  # type: ignore[arg-type]
            state["file"] = upload

    def on_part_data(data: bytes, start: int, end: int) -> None:
        upload = state.get("file")
        if isinstance(upload, UploadFile):
            upload.file.write(data[start:end])
            upload.size += end - start
        else:
            text.extend(data[start:end])

    def on_part_end() -> None:
        upload = state.get("file")
        if isinstance(upload, UploadFile):
            upload.file.seek(0)
            return
        try:
            form.fields.append((str(state["name"]), text.decode()))
        except UnicodeDecodeError:
            raise HTTPError(400, f"form field {state['name']!r} is not UTF-8") from None

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in c.iter_body():
            parser.write(chunk)
        parser.finalize()
        if parser.state != MultipartState.END:
            raise FormParserError("the body ends before the closing boundary")
    except FormParserError as exc:
        form.close()
        raise HTTPError(400, f"malformed multipart body: {exc}") from None
    except BaseException:
        form.close()
        raise
    return form
