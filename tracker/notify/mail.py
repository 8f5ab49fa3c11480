"""Reminder digests as email: building the message and sending it over SMTP.

One digest per recipient and kind: a text part and an HTML part, UTF-8, the subject encoded
as RFC 2047 so that Chinese survives every mail server.  Chinese by default; a recipient
whose preferred language is English gets English.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app
from markupsafe import escape

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
    #: as_of − due_on: negative while days are left, 0 on the day, positive when overdue.
    days: int


_TEXT = {
    "zh": {
        "subject_reminder": "【整改台账】您有 {n} 项整改事项需要关注",
        "subject_escalation": "【整改台账】督办提醒：{n} 项整改事项已逾期",
        "greeting": "{name}，您好：",
        "intro_reminder": "截至 {as_of}，以下 {n} 项由您负责的整改事项需要关注：",
        "intro_escalation": "截至 {as_of}，以下 {n} 项整改事项已逾期，请督促责任人尽快整改：",
        "org": "单位",
        "owner": "责任人",
        "due": "整改时限",
        "link": "查看",
        "left": "还剩 {d} 天",
        "today": "今天到期",
        "overdue": "已逾期 {d} 天",
        "footer": "本邮件由整改台账系统自动发送，请勿直接回复。",
        "title": "问题",
        "state": "状态",
    },
    "en": {
        "subject_reminder": "[Rectification ledger] {n} item(s) need your attention",
        "subject_escalation": "[Rectification ledger] Escalation: {n} item(s) overdue",
        "greeting": "Dear {name},",
        "intro_reminder": "As of {as_of}, these {n} item(s) you are responsible for need "
                          "attention:",
        "intro_escalation": "As of {as_of}, these {n} item(s) are overdue; please follow them "
                            "up with their owners:",
        "org": "Unit",
        "owner": "Owner",
        "due": "Due",
        "link": "Open",
        "left": "{d} day(s) left",
        "today": "due today",
        "overdue": "{d} day(s) overdue",
        "footer": "Sent automatically by the rectification ledger; please do not reply.",
        "title": "Item",
        "state": "Status",
    },
}


def _lang(locale: str | None) -> str:
    return "en" if (locale or "").startswith("en") else "zh"


def subject_for(kind: str, count: int, locale: str | None = None) -> str:
    """The subject line of a digest of ``count`` items."""
    return _TEXT[_lang(locale)][f"subject_{kind}"].format(n=count)


def urgency(item: DigestItem, locale: str | None = None) -> str:
    """"还剩 3 天", "今天到期" or "已逾期 5 天" for one item."""
    t = _TEXT[_lang(locale)]
    if item.days < 0:
        return t["left"].format(d=-item.days)
    if item.days == 0:
        return t["today"]
    return t["overdue"].format(d=item.days)


def issue_url(issue_id: int) -> str:
    """The link to an issue's page, built from TRACKER_BASE_URL."""
    return f"{current_app.config['TRACKER_BASE_URL'].rstrip('/')}/issues/{issue_id}"


def build_digest(
    *,
    to_name: str,
    to_address: str,
    kind: str,
    items: list[DigestItem],
    as_of: date,
    locale: str | None = None,
) -> EmailMessage:
    """The digest mail for one recipient: text and HTML parts, UTF-8, encoded subject."""
    if not items:
        raise ValueError("a digest needs at least one item (no empty mails)")
    t = _TEXT[_lang(locale)]
    n = len(items)
    intro = t[f"intro_{kind}"].format(as_of=as_of.isoformat(), n=n)

    lines = [t["greeting"].format(name=to_name), "", intro, ""]
    for i, item in enumerate(items, 1):
        lines.append(f"{i}. 【{urgency(item, locale)}】{item.title}")
        lines.append(f"   {t['org']}：{item.org_path}")
        if kind == "escalation":
            lines.append(f"   {t['owner']}：{item.owner_name}")
        lines.append(f"   {t['due']}：{item.due_on.isoformat()}")
        lines.append(f"   {t['link']}：{issue_url(item.issue_id)}")
        lines.append("")
    lines.append(t["footer"])
    text = "\n".join(lines) + "\n"

    rows = []
    for item in items:
        owner_cell = f"<td>{escape(item.owner_name)}</td>" if kind == "escalation" else ""
        rows.append(
            "<tr>"
            f"<td><a href=\"{escape(issue_url(item.issue_id))}\">{escape(item.title)}</a></td>"
            f"<td>{escape(item.org_path)}</td>{owner_cell}"
            f"<td>{escape(item.due_on.isoformat())}</td>"
            f"<td><strong>{escape(urgency(item, locale))}</strong></td>"
            "</tr>"
        )
    owner_head = f"<th>{escape(t['owner'])}</th>" if kind == "escalation" else ""
    html = (
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
        "<title>{subject}</title></head><body>"
        "<p>{greeting}</p><p>{intro}</p>"
        "<table border=\"1\" cellpadding=\"6\" cellspacing=\"0\">"
        "<thead><tr><th>{h_title}</th><th>{h_org}</th>{owner_head}<th>{h_due}</th>"
        "<th>{h_state}</th></tr></thead><tbody>{rows}</tbody></table>"
        "<p style=\"color:#666\">{footer}</p></body></html>\n"
    ).format(
        lang="en" if _lang(locale) == "en" else "zh-Hans",
        subject=escape(subject_for(kind, n, locale)),
        greeting=escape(t["greeting"].format(name=to_name)),
        intro=escape(intro),
        h_title=escape(t["title"]), h_org=escape(t["org"]), owner_head=owner_head,
        h_due=escape(t["due"]), h_state=escape(t["state"]),
        rows="".join(rows),
        footer=escape(t["footer"]),
    )
    return _message(subject_for(kind, n, locale), to_name, to_address, text, html)


_ANCHOR_TEXT = {
    "zh": {
        "subject": "【整改台账】历史锚点 {date}",
        "greeting": "{name}，您好：",
        "intro": "今日的台账历史锚点如下，请留存本邮件（或打印存档），"
                 "以便日后核对台账记录未被改动：",
        "date": "日期",
        "digest": "摘要（SHA-256）",
        "count": "问题数",
        "check": "核对方法：运行 flask --app tracker verify-history，"
                 "其输出中该日期的摘要应与本邮件一致；也可与 GET /api/v1/history/anchors 对照。",
    },
    "en": {
        "subject": "[Rectification ledger] History anchor {date}",
        "greeting": "Dear {name},",
        "intro": "Today's anchor of the ledger's history is below. Keep this mail (or print "
                 "it): it lets you check later that no recorded event was altered.",
        "date": "Date",
        "digest": "Digest (SHA-256)",
        "count": "Issues",
        "check": "To check: run flask --app tracker verify-history; the digest it prints for "
                 "this date must equal this one. GET /api/v1/history/anchors lists them too.",
    },
}


def build_anchor_mail(*, to_name: str, to_address: str, anchored_on: date, digest: str,
                      issue_count: int, locale: str | None = None) -> EmailMessage:
    """The admins' daily mail carrying the history anchor: text and HTML, UTF-8."""
    t = _ANCHOR_TEXT[_lang(locale)]
    subject = t["subject"].format(date=anchored_on.isoformat())
    fields = [(t["date"], anchored_on.isoformat()), (t["digest"], digest),
              (t["count"], str(issue_count))]
    text = "\n".join([t["greeting"].format(name=to_name), "", t["intro"], "",
                      *(f"{label}: {value}" for label, value in fields), "", t["check"], "",
                      _TEXT[_lang(locale)]["footer"]]) + "\n"
    rows = "".join(f"<tr><th scope=\"row\">{escape(label)}</th>"
                   f"<td><code>{escape(value)}</code></td></tr>" for label, value in fields)
    html = (f"<!DOCTYPE html>\n<html lang=\"{'en' if _lang(locale) == 'en' else 'zh-Hans'}\">"
            f"<head><meta charset=\"utf-8\"><title>{escape(subject)}</title></head><body>"
            f"<p>{escape(t['greeting'].format(name=to_name))}</p><p>{escape(t['intro'])}</p>"
            f"<table border=\"1\" cellpadding=\"6\" cellspacing=\"0\">{rows}</table>"
            f"<p>{escape(t['check'])}</p>"
            f"<p style=\"color:#666\">{escape(_TEXT[_lang(locale)]['footer'])}</p>"
            "</body></html>\n")
    return _message(subject, to_name, to_address, text, html)


def _message(subject: str, to_name: str, to_address: str, text: str, html: str) -> EmailMessage:
    """A UTF-8 mail with a text and an HTML part from TRACKER_MAIL_FROM."""
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
    msg.set_content(text, charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg


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

