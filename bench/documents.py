"""The 整改情况报告 of the whole prefecture, through a real gunicorn worker: its time against
the summary of the same scope and day (the baseline, measured in the same run and worker), and
the worker's memory growth while it writes the document.

At 1,000,000 issues a prefecture holds far more findings than a document can set out: the report
sets out at most ``FULL_CAP`` open findings and lists at most ``TABLE_CAP`` in its table (it says
how many it leaves out), so its cost should stay a small multiple of the summary's, and its
memory bounded, whatever the ledger's size.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from typing import Any

from sqlalchemy import select

from bench.common import DATA_DIR, Result, Settings, say
from bench.generate import Ledger, bench_app
from bench.server import MB, Server, _download, _measured
from bench.web import token_for


def _campaign(app: Any, ledger: Ledger) -> int:
    from tracker.extensions import db
    from tracker.issues.models import Campaign

    with app.app_context():
        campaign_id = db.session.scalar(
            select(Campaign.id).where(Campaign.org_id == ledger.prefecture_id)
            .order_by(Campaign.starts_on.desc(), Campaign.id.desc()).limit(1))
        db.session.remove()
    assert campaign_id is not None, "the generated ledger has no campaign"
    return int(campaign_id)


def run(settings: Settings, kind: str, url: str, ledger: Ledger) -> list[Result]:
    """The prefecture's report against its summary, and the worker's memory growth."""
    app = bench_app(url)
    token = token_for(app, ledger.prefecture_supervisor)
    campaign_id = _campaign(app, ledger)
    scope = f"campaign_id={campaign_id}&org_id={ledger.prefecture_id}&as_of={ledger.today}"
    report = f"/api/v1/reports/rectification?{scope}"
    summary = f"/api/v1/reports/summary?{scope}"
    os.makedirs(DATA_DIR, exist_ok=True)  # a PostgreSQL-only run has made no SQLite file there
    evidence_dir = tempfile.mkdtemp(prefix="evidence-", dir=DATA_DIR)
    server = Server(url, evidence_dir, 50)
    results: list[Result] = []
    try:
        # A county's report first, so that imports and caches are not counted as growth.
        _download(server, f"/api/v1/reports/rectification?campaign_id={campaign_id}"
                          f"&org_id={ledger.county_id}&as_of={ledger.today}", token)
        (size, ctype), seconds, growth = _measured(server, lambda: _download(server, report,
                                                                              token))
        if "wordprocessingml" not in ctype:
            raise RuntimeError(f"report answered {ctype}")
        repeat = max(3, settings.repeat // 10)
        times: dict[str, list[float]] = {"report": [], "summary": []}
        for _ in range(repeat):  # interleaved, so that load on the machine hits both alike
            for name, path in (("report", report), ("summary", summary)):
                started = time.perf_counter()
                _download(server, path, token)
                times[name].append(time.perf_counter() - started)
        report_s, summary_s = (statistics.median(times[n]) for n in ("report", "summary"))
        results.append(Result(
            "rectification report (prefecture)", kind, ledger.issues, report_s * 1000,
            summary_s * 1000, "ms", 10.0,
            note=f"{size / 1024:.0f} KB .docx; baseline: the summary of the same prefecture, "
                 f"campaign and day; median of {repeat}"))
        results.append(Result(
            "rectification report: memory growth", kind, ledger.issues, growth / MB, 0, "MB",
            100, kind="max", note=f"the worker's peak over its resident memory; first report "
                                  f"{seconds:.1f} s"))
        for result in results:
            say(result.line())
    except RuntimeError as exc:
        say(f"  skip rectification: {exc}")
    finally:
        server.stop()
        shutil.rmtree(evidence_dir, ignore_errors=True)
    return results
