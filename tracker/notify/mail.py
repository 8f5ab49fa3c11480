"""Mail: reminder digests and event notices, built from templates and sent over SMTP.

One mail per recipient and kind: a text part and an HTML part (``templates/notify/email/``),
UTF-8, the subject encoded as RFC 2047 so that Chinese and Tibetan survive every mail server.
Each recipient reads their own language (their ``locale``; Chinese by default), rendered by
Flask-Babel from the catalogues under ``force_locale``.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, gettext

from tracker.notify.labels import notice_label
from tracker.pages import LANGUAGES
from tracker.timeutil import local_zone

#: Seconds to wait for the mail server before giving up on it for this pass.
SMTP_TIMEOUT = 30


class MailError(Exception):
    """A digest could not be handed to the mail server; the message says why in one line."""


class RecipientRefused(MailError):
    """The mail server refused the recipient for good (5xx): retrying will not help."""


class InvalidAddress(ValueError):
    """The recipient's email address cannot be written into a mail header."""


@dataclass(frozen=True)
class DigestItem:
    """One issue in a digest, as the recipient reads it."""

    issue_id: int
    title: str
    #: Org names from the top, e.g. "果洛州 / 玛多县 / 玛多县行政服务中心".
    org_path: str
    owner_name: str
    due_on: date
    step: str
    #: due_on − as_of (``issues.models.days_left``): days left, 0 on the day, negative after.
    days_left: int
    #: On a campaign counted in working days, the issue's ``working_day_figures`` on as_of:
    #: working days left (while not overdue) and working days overdue; None otherwise.
    working_days_left: int | None = None
    working_days_overdue: int | None = None


def recipient_locale(locale: str | None) -> str:
    """The language a recipient reads: their ``locale`` when it is one we speak, else the
    default (Chinese)."""
    return locale if locale in LANGUAGES else LANGUAGES[0]


def name_language(locale: str) -> str:
    """The language whose names of units a recipient of ``locale`` reads ("bo" or "zh")."""
    return "bo" if locale == "bo" else "zh"


def _speaking(locale: str | None) -> Any:
    """Render in the recipient's language (Flask-Babel, the catalogues)."""
    return force_locale(recipient_locale(locale))


def subject_for(kind: str, count: int, locale: str | None = None) -> str:
    """The subject line of a reminder digest of ``count`` items, in the recipient's language."""
    with _speaking(locale):
        if kind == "escalation":
            return gettext("[Rectification ledger] Escalation: %(n)s item(s) overdue", n=count)
        return gettext("[Rectification ledger] %(n)s item(s) need your attention", n=count)


def urgency(item: DigestItem) -> str:
    """"还剩 3 天", "今天到期" or "已逾期 5 天" for one item (in the current language); on a
    campaign counted in working days "剩余 3 个工作日" or "已逾期 2 个工作日" (calendar days
    only where no working day counts yet: a deadline on a day off, an overdue weekend)."""
    if item.working_days_overdue:
        return gettext("%(d)s working day(s) overdue", d=item.working_days_overdue)
    if item.days_left > 0 and item.working_days_left:
        return gettext("%(d)s working day(s) left", d=item.working_days_left)
    if item.days_left > 0:
        return gettext("%(d)s day(s) left", d=item.days_left)
    if item.days_left == 0:
        return gettext("due today")
    return gettext("%(d)s day(s) overdue", d=-item.days_left)


def issue_url(issue_id: int) -> str:
    """The link to an issue's page, built from TRACKER_BASE_URL."""
    return f"{current_app.config['TRACKER_BASE_URL'].rstrip('/')}/issues/{issue_id}"


def _message(*, to_name: str, to_address: str, subject: str, template: str,
             locale: str | None, **context: Any) -> EmailMessage:
    """A mail from ``templates/notify/email/<template>.txt`` and ``.html``, rendered in the
    recipient's language: UTF-8 parts, the subject RFC 2047-encoded by the email package."""
    lang = recipient_locale(locale)
    with force_locale(lang):
        context.update(to_name=to_name, subject=subject, issue_url=issue_url,
                       urgency=urgency, notice_label=notice_label, html_lang=lang.replace("_", "-"))
        text = render_template(f"notify/email/{template}.txt", **context)
        html = render_template(f"notify/email/{template}.html", **context)
    cfg = current_app.config
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = cfg["TRACKER_MAIL_FROM"]
    try:
        msg["To"] = Address(display_name=to_name, addr_spec=to_address)
    except Exception as exc:  # noqa: BLE001 - the email package raises several kinds here
        raise InvalidAddress(f"not a usable email address: {to_address!r}") from exc
    msg["Date"] = format_datetime(_now_local())
    domain = cfg["TRACKER_MAIL_FROM"].rpartition("@")[2].strip("> ") or "localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(text.rstrip("\n") + "\n", charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg


def build_digest(
    *,
    to_name: str,
    to_address: str,
    kind: str,
    items: list[DigestItem],
    as_of: date,
    locale: str | None = None,
) -> EmailMessage:
    """The reminder (or escalation) digest for one recipient."""
    if not items:
        raise ValueError("a digest needs at least one item (no empty mails)")
    return _message(to_name=to_name, to_address=to_address,
                    subject=subject_for(kind, len(items), locale), template="digest",
                    locale=locale, kind=kind, items=items, as_of=as_of)


@dataclass(frozen=True)
class NoticeItem:
    """One event notice in a notice mail."""

    issue_id: int
    title: str
    org_path: str
    kind: str
    #: The event's kind, e.g. "reject" or "extension_approved".
    event: str
    actor_name: str
    comment: str
    at: datetime


def notices_subject(items: list[NoticeItem], locale: str | None = None) -> str:
    """The subject line of a mail of event notices: what happened and to what
    ("销号：#17 导视牌无藏文"), the first of them and how many in all when there are more."""
    first = items[0]
    with _speaking(locale):
        subject = gettext("%(what)s: #%(id)s %(title)s",
                          what=notice_label(first.kind, first.event), id=first.issue_id,
                          title=first.title)
        if len(items) > 1:
            subject = gettext("%(first)s and %(n)s more", first=subject, n=len(items) - 1)
    return subject


def build_notices(*, to_name: str, to_address: str, items: list[NoticeItem],
                  locale: str | None = None) -> EmailMessage:
    """The mail of one recipient's event notices not yet mailed."""
    if not items:
        raise ValueError("a notice mail needs at least one notice (no empty mails)")
    return _message(to_name=to_name, to_address=to_address,
                    subject=notices_subject(items, locale), template="notices",
                    locale=locale, items=items)


def build_anchor_mail(*, to_name: str, to_address: str, anchored_on: date, digest: str,
                      issue_count: int, locale: str | None = None) -> EmailMessage:
    """The admins' daily mail carrying the history anchor, in the recipient's language."""
    with _speaking(locale):
        subject = gettext("[Rectification ledger] History anchor %(date)s",
                          date=anchored_on.isoformat())
    return _message(to_name=to_name, to_address=to_address, subject=subject,
                    template="anchor", locale=locale, anchored_on=anchored_on, digest=digest,
                    issue_count=issue_count)


def _now_local() -> datetime:
    return datetime.now(local_zone())


def smtp_configured() -> bool:
    """Whether TRACKER_SMTP_HOST names a mail server (without one, in-app delivery only)."""
    return bool((current_app.config.get("TRACKER_SMTP_HOST") or "").strip())



class Mailer:
    """One SMTP connection for a pass, opened on first use.

    When the server cannot be reached, every later send in the same pass fails at once with
    the same reason instead of waiting for the timeout again.
    """

    def __init__(self) -> None:
        cfg = current_app.config
        self.host = cfg["TRACKER_SMTP_HOST"].strip()
        self.port = int(cfg.get("TRACKER_SMTP_PORT") or 25)
        self.user = cfg.get("TRACKER_SMTP_USER") or ""
        self.password = cfg.get("TRACKER_SMTP_PASSWORD") or ""
        self.starttls = bool(cfg.get("TRACKER_SMTP_STARTTLS"))
        self._smtp: smtplib.SMTP | None = None
        self._down: str | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._down:
            raise MailError(self._down)
        try:
            smtp: smtplib.SMTP
            if self.port == 465:
                # Port 465 speaks TLS from the first byte (SMTPS).
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT)
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password)
        except (OSError, smtplib.SMTPException) as exc:
            self._down = f"SMTP server {self.host}:{self.port} unavailable: {_one_line(exc)}"
            raise MailError(self._down) from None
        return smtp

    def send(self, msg: EmailMessage) -> None:
        """Hand one message to the server, or raise MailError with a one-line reason."""
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(msg)
        except smtplib.SMTPServerDisconnected:
            # The server dropped an idle or broken connection: one fresh try.
            self._smtp = None
            self._smtp = self._connect()
            try:
                self._smtp.send_message(msg)
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise MailError(f"SMTP {self.host}:{self.port}: {_one_line(exc)}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            detail = f"SMTP {self.host}:{self.port} refused " + "; ".join(
                f"{address}: {code} {_text(reply)}"
                for address, (code, reply) in exc.recipients.items()
            )
            if codes and all(code >= 500 for code in codes):
                raise RecipientRefused(detail) from None
            raise MailError(detail) from None
        except smtplib.SMTPException as exc:
            # Refused data or a temporary refusal: this message fails, the connection stays
            # usable for the others.
            raise MailError(f"SMTP {self.host}:{self.port}: {_one_line(exc)}") from None
        except OSError as exc:
            # The socket broke (SMTPException is an OSError too, hence this comes last).
            self.close()
            raise MailError(f"SMTP {self.host}:{self.port}: {_one_line(exc)}") from None

    def close(self) -> None:
        """Say goodbye to the server, if connected."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _text(reply: bytes | str) -> str:
    """An SMTP reply as one line of text."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())[:200]


def _one_line(exc: BaseException) -> str:
    """An exception as one short line: its class and message."""
    text = " ".join(str(exc).split()) or "no detail"
    return f"{exc.__class__.__name__}: {text}"[:300]

