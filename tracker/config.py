"""Configuration read from the ``TRACKER_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from typing import Any


def _bool(value: str | None, default: bool = False) -> bool:
    """Read a true/false, 1/0, yes/no environment value."""
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int_list(value: str | None, default: list[int]) -> list[int]:
    """Read a comma-separated list of whole numbers."""
    if not value:
        return default
    return [int(part) for part in value.split(",") if part.strip()]


class Config:
    """Settings for a running service, from the environment."""

    def __init__(self, instance_path: str) -> None:
        env = os.environ
        self.SQLALCHEMY_DATABASE_URI = env.get("TRACKER_DATABASE_URL") or (
            "sqlite:///" + os.path.join(instance_path, "tracker.sqlite3")
        )
        # A secret that is not configured is made once and kept in the instance folder, so
        # that every worker on this host signs sessions with the same key.
        self.SECRET_KEY = env.get("TRACKER_SECRET_KEY") or _instance_secret(instance_path)
        self.TRACKER_EVIDENCE_DIR = env.get("TRACKER_EVIDENCE_DIR") or os.path.join(
            instance_path, "evidence"
        )
        self.TRACKER_MAX_UPLOAD_MB = int(env.get("TRACKER_MAX_UPLOAD_MB", "50"))
        self.MAX_CONTENT_LENGTH = self.TRACKER_MAX_UPLOAD_MB * 1024 * 1024 + 64 * 1024
        self.TRACKER_SMTP_HOST = env.get("TRACKER_SMTP_HOST", "")
        self.TRACKER_SMTP_PORT = int(env.get("TRACKER_SMTP_PORT", "25"))
        self.TRACKER_SMTP_USER = env.get("TRACKER_SMTP_USER", "")
        self.TRACKER_SMTP_PASSWORD = env.get("TRACKER_SMTP_PASSWORD", "")
        self.TRACKER_SMTP_STARTTLS = _bool(env.get("TRACKER_SMTP_STARTTLS"))
        self.TRACKER_MAIL_FROM = env.get("TRACKER_MAIL_FROM", "tracker@localhost")
        self.TRACKER_BASE_URL = env.get("TRACKER_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        self.TRACKER_TIMEZONE = env.get("TRACKER_TIMEZONE", "Asia/Shanghai")
        self.TRACKER_REMIND_AT = env.get("TRACKER_REMIND_AT", "09:00")
        #: Minutes between two sweeps that mail the event notices not yet mailed.
        self.TRACKER_NOTICE_MINUTES = int(env.get("TRACKER_NOTICE_MINUTES", "5"))
        self.TRACKER_REMIND_DAYS_BEFORE = _int_list(
            env.get("TRACKER_REMIND_DAYS_BEFORE"), [7, 3, 1, 0]
        )
        self.TRACKER_OVERDUE_REPEAT_DAYS = int(env.get("TRACKER_OVERDUE_REPEAT_DAYS", "7"))
        self.TRACKER_ESCALATE_AFTER_DAYS = int(env.get("TRACKER_ESCALATE_AFTER_DAYS", "3"))
        #: After downtime, a reminder pass still sends steps missed up to this many days ago.
        self.TRACKER_REMIND_CATCH_UP_DAYS = int(env.get("TRACKER_REMIND_CATCH_UP_DAYS", "7"))
        #: Webhooks may reach loopback addresses (tests only; SPEC §6).
        self.TRACKER_WEBHOOK_ALLOW_LOOPBACK = _bool(env.get("TRACKER_WEBHOOK_ALLOW_LOOPBACK"))
        #: Seconds within which a webhook delivery's whole answer must arrive (SPEC §6: 10).
        self.TRACKER_WEBHOOK_TIMEOUT = float(env.get("TRACKER_WEBHOOK_TIMEOUT", "10"))
        #: Deliveries one sweep claims at most, so that a burst never makes unbounded work.
        self.TRACKER_WEBHOOK_BATCH = int(env.get("TRACKER_WEBHOOK_BATCH", "100"))
        # Downloads made while the client waits: at most this many rows (else an export job).
        self.TRACKER_SYNC_XLSX_ROWS = int(env.get("TRACKER_SYNC_XLSX_ROWS", "20000"))
        self.TRACKER_SYNC_CSV_ROWS = int(env.get("TRACKER_SYNC_CSV_ROWS", "200000"))
        # Imports of more rows than this run as a job (page and API), with a progress bar.
        self.TRACKER_IMPORT_JOB_ROWS = int(env.get("TRACKER_IMPORT_JOB_ROWS", "2000"))
        # Export and import jobs' files (default: a "jobs" folder beside the evidence folder).
        self.TRACKER_JOBS_DIR = env.get("TRACKER_JOBS_DIR", "")
        #: Megabytes of unfinished resumable uploads one user may hold (SPEC §6).
        self.TRACKER_UPLOAD_QUOTA_MB = int(env.get("TRACKER_UPLOAD_QUOTA_MB", "200"))
        self.TRACKER_TOKEN_HOURS = int(env.get("TRACKER_TOKEN_HOURS", "12"))
        #: The directory users whose ``auth`` is ldap sign in against (unset: none).
        self.TRACKER_LDAP_URL = env.get("TRACKER_LDAP_URL", "")
        self.TRACKER_LDAP_BIND_DN = env.get("TRACKER_LDAP_BIND_DN", "")
        self.TRACKER_LDAP_BIND_PASSWORD = env.get("TRACKER_LDAP_BIND_PASSWORD", "")
        self.TRACKER_LDAP_BASE_DN = env.get("TRACKER_LDAP_BASE_DN", "")
        self.TRACKER_LDAP_USER_FILTER = env.get("TRACKER_LDAP_USER_FILTER", "(uid={username})")
        #: Seconds to wait for the directory before telling its users it is unavailable.
        self.TRACKER_LDAP_TIMEOUT = float(env.get("TRACKER_LDAP_TIMEOUT", "5"))
        self.TRACKER_LOGIN_MAX_FAILURES = int(env.get("TRACKER_LOGIN_MAX_FAILURES", "5"))
        self.TRACKER_LOGIN_WINDOW_MINUTES = int(env.get("TRACKER_LOGIN_WINDOW_MINUTES", "15"))
        self.SESSION_COOKIE_SECURE = _bool(env.get("TRACKER_COOKIE_SECURE"))
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        # No ping per checkout (a round trip per request): connections idle for
        # TRACKER_DB_PING_IDLE_SECONDS are pinged instead (tracker/database.py), and none is
        # kept past pool_recycle, below the idle timeouts of firewalls between the hosts.
        self.SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_recycle": 1800}
        self.TRACKER_DB_PING_IDLE_SECONDS = float(env.get("TRACKER_DB_PING_IDLE_SECONDS", "10"))
        self.BABEL_DEFAULT_LOCALE = "zh_Hans"
        self.BABEL_DEFAULT_TIMEZONE = self.TRACKER_TIMEZONE
        self.API_TITLE = "Rectification ledger API"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/api/v1"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.WTF_CSRF_TIME_LIMIT = None
        self.JSON_AS_ASCII = False


def _instance_secret(instance_path: str) -> str:
    """Return the secret kept in the instance folder, making it on first use."""
    path = os.path.join(instance_path, "secret_key")
    os.makedirs(instance_path, exist_ok=True)
    try:
        with open(path, encoding="ascii") as fh:
            return fh.read().strip()
    except FileNotFoundError:
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key)
        return key
