"""Supervision's reads against their baselines in the same run (bench/README.md): the ledger
list filtered by ``light=red`` against ``overdue=true`` (the same rows: target ≤ 1.2×), the
ranking of a prefecture's counties against the summary of the same prefecture and day
(target ≤ 2×), and the trend of the same prefecture at 12 monthly points against that summary
(target ≤ 3×)."""

from __future__ import annotations

from datetime import date

from bench.common import Result, Settings, interleaved_medians, say
from bench.generate import Ledger, bench_app
from bench.web import _get, token_for


def run(settings: Settings, kind: str, url: str, ledger: Ledger) -> list[Result]:
    """The light filter and the ranking on one database."""
    app = bench_app(url)
    client = app.test_client()
    as_of = date.fromisoformat(ledger.today).isoformat()
    county = token_for(app, ledger.county_supervisor)
    pref = token_for(app, ledger.prefecture_supervisor)
    pairs = {
        "list light=red (county)": (
            f"/api/v1/issues?org_id={ledger.county_id}&light=red&page_size=50", county,
            f"/api/v1/issues?org_id={ledger.county_id}&overdue=true&page_size=50", county,
            1.2, "baseline: the same list with overdue=true"),
        "ranking (prefecture)": (
            f"/api/v1/reports/ranking?org_id={ledger.prefecture_id}&as_of={as_of}", pref,
            f"/api/v1/reports/summary?org_id={ledger.prefecture_id}&as_of={as_of}", pref,
            2.0, "baseline: the summary of the same prefecture and day"),
        "trend, 12 monthly points (prefecture)": (
            f"/api/v1/reports/trend?org_id={ledger.prefecture_id}&step=month&points=12"
            f"&to={as_of}", pref,
            f"/api/v1/reports/summary?org_id={ledger.prefecture_id}&as_of={as_of}", pref,
            3.0, "baseline: the summary of the same prefecture and its last day"),
    }
    results: list[Result] = []
    for name, (path, token, base, base_token, target, note) in pairs.items():
        first, second = _get(client, path, token), _get(client, base, base_token)
        if first.status_code != 200 or second.status_code != 200:
            say(f"  skip {name}: {first.status_code} / {second.status_code}")
            continue
        times = interleaved_medians({
            "real": lambda p=path, t=token: _get(client, p, t),
            "base": lambda p=base, t=base_token: _get(client, p, t),
        }, max(5, settings.repeat // 3))
        results.append(Result(name, kind, ledger.issues, times["real"] * 1000,
                              times["base"] * 1000, "ms", target,
                              note=f"{len(first.get_json())} rows; {note}"))
        say(results[-1].line())
    with app.app_context():
        from tracker.extensions import db

        db.engine.dispose()
    return results
