"""Uploads received in one pass: each byte is hashed and written once, where it will stay.

``HashingSpool`` is a file under a directory (the evidence directory, so that keeping the file
is a rename) that computes SHA-256, the size, the first bytes and a text check while it is
written.  ``read_multipart`` parses a ``multipart/form-data`` body straight from the request
stream into such a spool: no spooling by Werkzeug to a temporary file and no second copy.
Knows no domain.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from typing import IO, Any

from werkzeug.http import parse_options_header

from tracker.errors import DomainError, TooLarge

#: Bytes kept from the start of a file for the magic-number check.
HEAD_SIZE = 8 * 1024
#: Bytes read from the request at a time: large reads cost less per byte, memory stays bounded.
READ_SIZE = 1024 * 1024
#: Largest header block of one part, and largest plain (non-file) field.
MAX_PART_HEADERS = 16 * 1024
MAX_FIELD_SIZE = 64 * 1024


class TextCheck:
    """Whether a stream, fed in chunks, is text: no NUL, valid UTF-8 or GB18030."""

    def __init__(self) -> None:
        self.decoders = {
            "utf-8": codecs.getincrementaldecoder("utf-8")(),
            "gb18030": codecs.getincrementaldecoder("gb18030")(),
        }
        self.has_nul = False

    def feed(self, chunk: bytes | memoryview, final: bool = False) -> None:
        """Look at the next chunk (stops working once the stream is known not to be text)."""
        if self.has_nul or not self.decoders:
            return
        if isinstance(chunk, memoryview):
            chunk = chunk.tobytes()  # only while it may still be text
        if b"\x00" in chunk:
            self.has_nul = True
            return
        for name, decoder in list(self.decoders.items()):
            try:
                decoder.decode(chunk, final)
            except UnicodeDecodeError:
                del self.decoders[name]

    @property
    def ok(self) -> bool:
        """Whether everything fed so far is text."""
        return not self.has_nul and bool(self.decoders)

    @property
    def charset(self) -> str:
        """The encoding it was written in: UTF-8, else GB18030 (older Windows)."""
        return "utf-8" if "utf-8" in self.decoders else "gb18030"


class HashingSpool:
    """A new file under ``directory`` that hashes, measures and checks what is written to it.

    Readable and seekable too (an importer reads its spreadsheet back).  Closing removes the
    file unless it was kept (``keep``) under its final name.
    """

    def __init__(self, directory: str, prefix: str = ".upload-", *,
                 existing: str | None = None) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self.head = b""
        self.text = TextCheck()
        self.kept = False
        self.finished = False
        if existing is None:
            os.makedirs(directory, exist_ok=True)
            fd, self.path = tempfile.mkstemp(prefix=prefix, dir=directory)
            self.file: IO[bytes] = os.fdopen(fd, "w+b")
            return
        # A file already on disk (a finished resumable upload): durable first, then read
        # once to hash it.
        self.path = existing
        self.file = open(existing, "r+b")  # noqa: SIM115 - closed by the spool
        os.fsync(self.file.fileno())
        while chunk := self.file.read(READ_SIZE):
            self._see(chunk)
        self.text.feed(b"", final=True)
        self.finished = True

    def _see(self, data: bytes | memoryview) -> None:
        self.size += len(data)
        if len(self.head) < HEAD_SIZE:
            self.head += bytes(data[: HEAD_SIZE - len(self.head)])
        self.digest.update(data)
        self.text.feed(data)

    # the file-like interface Werkzeug and readers expect
    def write(self, data: bytes | memoryview) -> int:
        """Hash, measure, check and store ``data``."""
        self._see(data)
        self.file.write(data)
        return len(data)

    def read(self, size: int = -1) -> bytes:
        """Read back what was written (after ``seek``)."""
        return self.file.read(size)

    def readline(self, size: int = -1) -> bytes:
        """Read back one line."""
        return self.file.readline(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move in the file."""
        return self.file.seek(offset, whence)

    def tell(self) -> int:
        """Where in the file."""
        return self.file.tell()

    def seekable(self) -> bool:
        """Always: it is a regular file."""
        return True

    def readable(self) -> bool:
        """Always."""
        return True

    def flush(self) -> None:
        """Flush what was written."""
        self.file.flush()

    @property
    def sha256(self) -> str:
        """The SHA-256 (hex) of everything written."""
        return self.digest.hexdigest()

    def finish(self) -> None:
        """Everything is written: end the text check and make the bytes durable."""
        if not self.finished:
            self.text.feed(b"", final=True)
            self.file.flush()
            os.fsync(self.file.fileno())
            self.finished = True

    def keep(self, final_path: str) -> None:
        """Keep the file under ``final_path`` (same file system: a rename)."""
        self.finish()
        os.utime(self.path)  # young again: the sweep leaves it while its row commits
        os.replace(self.path, final_path)
        self.kept = True
        self.path = final_path

    def close(self) -> None:
        """Close; the file goes unless it was kept."""
        if not self.file.closed:
            self.file.close()
        if not self.kept:
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass

    def __enter__(self) -> HashingSpool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def spool_stream(stream: IO[bytes], directory: str, limit: int | None = None) -> HashingSpool:
    """Copy ``stream`` into a new spool (for callers holding a stream, not a request)."""
    spool = HashingSpool(directory)
    try:
        while chunk := stream.read(READ_SIZE):
            spool.write(chunk)
            if limit is not None and spool.size > limit:
                raise too_large(limit)
        spool.finish()
    except BaseException:
        spool.close()
        raise
    return spool


def spool_file(path: str) -> HashingSpool:
    """A spool over a file already on disk, next to where it will be kept (read once)."""
    return HashingSpool(os.path.dirname(path), existing=path)


def too_large(limit: int) -> TooLarge:
    """The 413 refusal of a file over ``limit`` bytes."""
    from flask_babel import lazy_gettext as _l

    return TooLarge(
        _l("The file is larger than %(n)s MB.", n=limit // (1024 * 1024)),
        reason="too_large", errors={"file": [_l("Too large.")]},
    )


class MalformedBody(DomainError):
    """A multipart body that cannot be parsed (400)."""

    status = 400
    reason = "malformed_body"


@dataclass
class FilePart:
    """The file part of a form: the name the client gave, and its spool."""

    filename: str
    spool: HashingSpool


@dataclass
class MultipartForm:
    """A parsed form: plain fields, and the file parts by field name."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, FilePart] = field(default_factory=dict)

    def close(self) -> None:
        """Close every spool (removing the files no one kept)."""
        for part in self.files.values():
            part.spool.close()

    def __enter__(self) -> MultipartForm:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _malformed() -> MalformedBody:
    from flask_babel import lazy_gettext as _l

    return MalformedBody(_l("The form data is malformed."))


def read_multipart(stream: IO[bytes], content_type: str, directory: str,
                   file_fields: tuple[str, ...] = ("file",)) -> MultipartForm:
    """Parse a ``multipart/form-data`` body from ``stream`` in one pass.

    The parts named in ``file_fields`` go straight into a ``HashingSpool`` under
    ``directory``; other file parts are read and dropped; plain fields are kept as text (at
    most ``MAX_FIELD_SIZE`` bytes each).  Memory stays bounded by ``READ_SIZE``.
    """
    mimetype, options = parse_options_header(content_type)
    boundary = options.get("boundary", "")
    if mimetype != "multipart/form-data" or not boundary or len(boundary) > 200:
        raise _malformed()
    delim = b"\r\n--" + boundary.encode("latin-1")
    keep = len(delim) - 1
    form = MultipartForm()
    # The first boundary has no CRLF before it: put one there so that all look alike.
    buf = bytearray(b"\r\n")
    eof = False

    def fill() -> bool:
        nonlocal eof
        if eof:
            return False
        chunk = stream.read(READ_SIZE)
        if not chunk:
            eof = True
            return False
        buf.extend(chunk)
        return True

    def emit(n: int, sink: Any) -> None:
        if n <= 0:
            return
        if sink is not None:
            view = memoryview(buf)
            part = view[:n]
            try:
                sink(part)
            finally:
                part.release()
                view.release()
        del buf[:n]

    try:
        # Preamble: up to the first boundary.
        while (i := buf.find(delim)) < 0:
            if len(buf) > keep:
                del buf[:-keep]
            if not fill():
                raise _malformed()
        del buf[: i + len(delim)]
        while True:
            while len(buf) < 2:
                if not fill():
                    raise _malformed()
            if buf[:2] == b"--":
                break  # the closing boundary; the epilogue is ignored
            while (i := buf.find(b"\r\n")) < 0:
                if len(buf) > MAX_PART_HEADERS or not fill():
                    raise _malformed()
            del buf[: i + 2]
            while (i := buf.find(b"\r\n\r\n")) < 0:
                if len(buf) > MAX_PART_HEADERS or not fill():
                    raise _malformed()
            headers = _part_headers(bytes(buf[:i]))
            while len(buf) < i + 2 + len(delim) and fill():
                pass
            if buf[i + 4: i + 2 + len(delim)] == delim[2:]:
                del buf[: i + 2]  # an empty part whose CRLF doubled as the headers' end
            else:
                del buf[: i + 4]
            disposition, params = parse_options_header(headers.get("content-disposition", ""))
            if disposition != "form-data" or "name" not in params:
                raise _malformed()
            name = params["name"]
            sink: Any = None
            field_bytes: bytearray | None = None
            if "filename" in params:
                # A file input left empty sends a part without a name: the next one counts
                # (the page has two inputs named "file": the picker and the camera).
                if params["filename"] and name in file_fields and name not in form.files:
                    spool = HashingSpool(directory)
                    form.files[name] = FilePart(params["filename"], spool)
                    sink = spool.write
            else:
                field_bytes = bytearray()

                def collect(data: memoryview, into: bytearray = field_bytes) -> None:
                    into.extend(data)
                    if len(into) > MAX_FIELD_SIZE:
                        raise too_large(MAX_FIELD_SIZE)

                sink = collect
            while (i := buf.find(delim)) < 0:
                emit(len(buf) - keep, sink)
                if not fill():
                    raise _malformed()
            emit(i, sink)
            del buf[: len(delim)]
            if field_bytes is not None:
                try:
                    form.fields.setdefault(name, field_bytes.decode("utf-8"))
                except UnicodeDecodeError:
                    raise _malformed() from None
        for part in form.files.values():
            part.spool.finish()
    except BaseException:
        form.close()
        raise
    return form


def _part_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            headers[key.strip().lower()] = value.strip()
    return headers
