"""The app as production serves it, plus bare endpoints: the floors of served requests.

``POST /bench/floor-upload`` reads the request body as it comes and streams it into SHA-256
and a file under the evidence directory (then fsyncs it, as the real upload does), in reads
of the same size as the real parser's: no parsing, no rules, no database.
``GET /bench/floor-json`` answers the JSON saved in ``BENCH_FLOOR_JSON`` (the list's floor
under load, bench/concurrency.py).  They are registered only in the benchmarks' gunicorn
(``bench.floor_app:create()``), never in the product.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Any

from flask import Flask, Response, current_app, jsonify, request

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

    # The list's served floor: the very answer the real endpoint gave (body and headers,
    # saved by bench/concurrency.py), from memory, no database, no auth.
    floor_json = os.environ.get("BENCH_FLOOR_JSON")
    if floor_json:
        with open(floor_json, "rb") as fh:
            saved = json.loads(fh.read())
        body, headers = saved["body"].encode(), saved["headers"]

        @app.get("/bench/floor-json")
        def floor_json_answer() -> Any:
            resp = Response(body, mimetype="application/json")
            resp.headers.update(headers)
            return resp

    from tracker.extensions import csrf

    csrf.exempt(floor_upload)
    return app
