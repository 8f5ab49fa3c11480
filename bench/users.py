"""1,000 users by spreadsheet (issue 24: "1,000 users import in seconds") against reading the file.

``import`` is ``tracker.owners.imports.import_users`` on an xlsx of USERS rows (every row read
and checked, the usernames' keys looked up, a temporary password made and hashed per user, one
bulk insert), committed, with the production password method (scrypt) configured.  ``read`` is
reading every cell of the same file with openpyxl read-only, the floor of any import.  The note
also says what hashing the temporary passwords with scrypt, as before, would add (scrypt's time
for one hash, measured here, times USERS): the reason the made passwords get the fast hash
(tracker/owners/passwords.py).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from typing import Any

from bench.common import Result, Settings, drop_scratch, say, scratch_url

USERS = 1_000
ROUNDS = 3
SCHEMA = "bench_users"


def _url(kind: str, tmp: str) -> str:
    return scratch_url(kind, tmp, SCHEMA)


def _drop(kind: str) -> None:
    drop_scratch(kind, SCHEMA)


def _xlsx(path: str, prefix: str) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("人员")
    sheet.append(["用户名", "姓名", "单位", "角色", "邮箱", "语言"])
    for n in range(USERS):
        sheet.append([f"{prefix}{n:04d}", f"窗口人员{n}", "MD", "责任人",
                      f"{prefix}{n}@example.gov.cn", "藏文" if n % 3 == 0 else "中文"])
    book.save(path)


def _read(path: str) -> float:
    from openpyxl import load_workbook

    started = time.perf_counter()
    book = load_workbook(path, read_only=True)
    for _row in book.worksheets[0].iter_rows(values_only=True):
        pass
    book.close()
    return time.perf_counter() - started


def _measure(kind: str) -> list[Result]:
    from werkzeug.security import generate_password_hash

    from bench.generate import bench_app
    from tracker.extensions import db
    from tracker.owners import service as owners
    from tracker.owners.imports import import_users

    with tempfile.TemporaryDirectory(prefix="bench-users-") as tmp:
        url = _url(kind, tmp)
        app = bench_app(url)
        app.config["TRACKER_PASSWORD_METHOD"] = "scrypt"  # production's
        try:
            with app.app_context():
                from flask_migrate import upgrade

                upgrade()
                system = owners.system_actor("bench")
                owners.create_org(system, "MD", "玛多县", "county", None)
                admin = owners.create_user(system, "bench-admin", "bench-pass-1", "admin", None,
                                           display_name="管理员")
                db.session.commit()
                samples: dict[str, list[float]] = {"import": [], "read": []}
                for n in range(ROUNDS):
                    path = os.path.join(tmp, f"users{n}.xlsx")
                    _xlsx(path, f"r{n}u")
                    samples["read"].append(_read(path))
                    started = time.perf_counter()
                    report: Any = import_users(path, "users.xlsx", admin)
                    db.session.commit()
                    samples["import"].append(time.perf_counter() - started)
                    assert report.created == USERS
                    say(f"  round {n + 1}: import {samples['import'][-1]:.2f} s, "
                        f"read {samples['read'][-1]:.3f} s")
                started = time.perf_counter()
                generate_password_hash("Temp0rary-password", method="scrypt")
                scrypt = time.perf_counter() - started
                took = {k: statistics.median(v) for k, v in samples.items()}
                result = Result(f"import {USERS:,} users (xlsx)", kind, USERS,
                                took["import"], took["read"], "s", 10.0,
                                note=f"import {took['import']:.2f} s vs reading the file "
                                f"{took['read']:.2f} s; scrypt per temporary password would "
                                f"add ~{scrypt * USERS:.0f} s; median of {ROUNDS}")
                say(result.line())
                return [result]
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            _drop(kind)


def run(settings: Settings, kind: str) -> list[Result]:
    """The import of 1,000 users against reading their file, on ``kind``."""
    return _measure(kind)


if __name__ == "__main__":
    import sys

    for kind in sys.argv[1:] or ["sqlite"]:
        _measure(kind)
