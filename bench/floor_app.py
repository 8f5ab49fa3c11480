"""The app as production serves it, plus one bare endpoint: the upload's floor.

``POST /bench/floor-upload`` reads the request body as it comes and streams it into SHA-256
and a file under the evidence directory (then fsyncs it, as the real upload does), in reads
of the same size as the real parser's: no parsing, no rules, no database.  It is registered
only in this benchmark's gunicorn (``bench.floor_app:create()``), never in the product.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

from flask import Flask, current_app, jsonify, request

from tracker import create_app
from tracker.spool import READ_SIZE


def create() -> Flask:
    """``create_app()`` with the floor endpoint."""
    app = create_app()

    @app.post("/bench/floor-upload")
    def floor_upload() -> Any:
        directory = current_app.config["TRACKER_EVIDENCE_DIR"]
        os.makedirs(directory, exist_ok=True)
        digest = hashlib.sha256()
        fd, path = tempfile.mkstemp(prefix=".floor-", dir=directory)
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := request.stream.read(READ_SIZE):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.remove(path)
        return jsonify(sha256=digest.hexdigest(), size=size), 201

    from tracker.extensions import csrf

    csrf.exempt(floor_upload)
    return app
