"""What every benchmark shares: settings, timing by medians, results and their printing."""

from __future__ import annotations

import gc
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.generate import Ledger, Shape, ensure_ledger, local_today

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
#: Where the bench keeps its SQLite files and upload fixtures (git ignores instance/).
DATA_DIR = os.environ.get("BENCH_DATA_DIR") or os.path.join(ROOT, "instance", "bench")
RESULTS_DIR = os.path.join(HERE, "results")
#: The PostgreSQL server; each ledger lives in its own schema ``bench_<size>`` there.
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

#: Scales: the ledger's size and the small ledger the reminder pass is compared with.
SCALES: dict[str, dict[str, int]] = {
    "full": {"issues": 1_000_000, "orgs": 10_000, "users": 10_000, "small_issues": 10_000},
    "small": {"issues": 100_000, "orgs": 10_000, "users": 10_000, "small_issues": 10_000},
    "tiny": {"issues": 20_000, "orgs": 1_000, "users": 1_000, "small_issues": 2_000},
}


@dataclass
class Settings:
    """One run's choices."""

    issues: int
    orgs: int
    users: int
    small_issues: int
    databases: list[str]
    only: list[str]
    repeat: int
    fresh: bool = False
    upload_mb: int = 200
    export_rows: int = 100_000
    reminder_steps: int = 1_000

    def shape(self, issues: int | None = None) -> Shape:
        """The generator's shape for a ledger of ``issues`` (default: the run's size)."""
        n = issues or self.issues
        # The same org tree and users at every size: only the ledger grows.
        return Shape(issues=n, orgs=self.orgs, users=self.users, today=local_today())


def database_url(kind: str, issues: int) -> str:
    """The URL of the bench's ledger of ``issues`` on ``kind`` (sqlite or postgresql)."""
    if kind == "sqlite":
        os.makedirs(DATA_DIR, exist_ok=True)
        return "sqlite:///" + os.path.join(DATA_DIR, f"ledger-{issues}.sqlite3")
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3Dbench_{issues}"


def ledger_for(settings: Settings, kind: str, issues: int | None = None,
               fresh: bool | None = None) -> tuple[str, Ledger]:
    """The URL and description of a generated ledger, reused when already there."""
    shape = settings.shape(issues)
    url = database_url(kind, shape.issues)
    ledger = ensure_ledger(url, shape, fresh=settings.fresh if fresh is None else fresh,
                           log=say)
    return url, ledger


@dataclass
class Result:
    """One benchmark's figure on one database, against its baseline."""

    name: str
    db: str
    issues: int
    value: float
    baseline: float
    unit: str
    target: float
    #: "ratio" when value/baseline must stay at most target, "min" when at least target,
    #: "max" when value itself must stay at most target (memory growth in MB).
    kind: str = "ratio"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def figure(self) -> float:
        """The figure compared with the target."""
        if self.kind == "max":
            return self.value
        return self.value / self.baseline if self.baseline else float("inf")

    @property
    def ok(self) -> bool:
        """Whether the target holds."""
        if self.kind == "min":
            return self.figure >= self.target
        return self.figure <= self.target

    def line(self) -> str:
        """One printed line."""
        if self.kind == "max":
            fig = f"{self.value:8.1f} {self.unit:<4}   (limit {self.target:g} {self.unit})"
        else:
            sign = "≥" if self.kind == "min" else "≤"
            fig = (f"{self.figure:8.2f} ×      ({self.value:.4g} vs {self.baseline:.4g} "
                   f"{self.unit}; target {sign} {self.target:g}×)")
        verdict = "ok  " if self.ok else "MISS"
        note = f"  {self.note}" if self.note else ""
        return f"  {verdict} {self.name:<30} {self.db:<10} {fig}{note}"


def scratch_url(kind: str, tmp: str, schema: str) -> str:
    """A fresh, empty database for a benchmark that builds its own small ledger: a SQLite file
    in ``tmp``, or the schema ``schema`` (dropped and made again) on PostgreSQL."""
    if kind == "sqlite":
        return "sqlite:///" + os.path.join(tmp, f"{schema}.sqlite3")
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def drop_scratch(kind: str, schema: str) -> None:
    """Drop what ``scratch_url`` made on PostgreSQL (SQLite's file goes with ``tmp``)."""
    if kind == "postgresql":
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def say(message: str) -> None:
    """Progress on standard output, flushed at once."""
    print(message, flush=True)


def median_seconds(fn: Callable[[], Any], repeat: int, warmup: int = 2) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def interleaved_medians(fns: dict[str, Callable[[], Any]], repeat: int,
                        warmup: int = 2) -> dict[str, float]:
    """Medians of several functions timed in turn, so that machine noise hits all alike."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def interleaved_sweeps(big: Any, little: Any, repeat: int) -> tuple[float, float]:
    """Median seconds of ``big.sweep`` and ``little.sweep`` (objects with ``sweep(timed)``,
    ``times`` and ``close()``), taken in turn so that the noise of a shared machine hits both
    alike; the first round warms the caches and is not timed.  Both are closed after."""
    try:
        for attempt in range(repeat + 1):
            big.sweep(timed=bool(attempt))
            little.sweep(timed=bool(attempt))
    finally:
        big.close()
        little.close()
    return statistics.median(big.times), statistics.median(little.times)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    mem_kb = 0
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem_kb = int(line.split()[1])
    except OSError:
        pass
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1), "cpu": cpu,
            "load": os.getloadavg()[0]}


def save(results: list[Result], settings: Settings, started: float,
         path: str | None = None) -> str:
    """Write the run's figures as JSON under bench/results/ (ignored by git); ``path``
    rewrites the file of an earlier call of the same run."""
    os.makedirs(RESULTS_DIR, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = path or os.path.join(RESULTS_DIR, f"{stamp}-{settings.issues}.json")
    payload = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
        "settings": asdict(settings),
        "results": [dict(asdict(r), figure=r.figure, ok=r.ok) for r in results],
    }
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, ensure_ascii=False, indent=2)
    return path
