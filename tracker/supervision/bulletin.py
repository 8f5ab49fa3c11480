"""The ranking's files: the table as a spreadsheet ready to print (A4, like the 汇总表) and the
通报, the bulletin that ranks the units, as a Word file in the GB/T 9704 layout of
``tracker.documents`` (SPEC §6: a title, one paragraph, the table, the signature).

Both take their figures from ``ranking.ranking_rows`` and nothing else, so the page, the API,
the spreadsheet and the bulletin always give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from flask import Response
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from tracker import documents, spreadsheets
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import sheets
from tracker.issues.models import Campaign
from tracker.issues.reports import service as reports
from tracker.issues.reports.rectification import report_language
from tracker.owners.models import Org, User
from tracker.supervision import ranking
from tracker.supervision.schemas import RANKING_FORMATS
from tracker.supervision.service import short_name
from tracker.timeutil import format_date, reader_language
from tracker.webapi import attachment

#: The formats a ranking downloads as.
FORMATS = RANKING_FORMATS

#: The spreadsheet's columns: key -> heading.
SHEET_COLUMNS: dict[str, Any] = {
    "rank": _l("Rank"),
    "org_name": _l("Unit"),
    "score": _l("Score"),
    "total": _l("Findings in total"),
    "closed": _l("Closed"),
    "closed_on_time": _l("Closed on time"),
    "completion_rate": _l("Completion rate"),
    "on_time_rate": _l("On-time rate"),
    "overdue": _l("Overdue, not rectified"),
    "overdue_days": _l("Days overdue in all"),
    "extended": _l("Extended"),
    "urged": _l("Urged"),
    "orders": _l("Supervision orders"),
    "red": _l("Red light"),
    "yellow": _l("Yellow light"),
    "green": _l("Green light"),
}
SHEET_WIDTHS = (6, 24, 8, 9, 8, 9, 9, 9, 9, 10, 7, 7, 8, 7, 7, 7)
#: The bulletin's table: fewer columns, on a portrait page.
DOC_COLUMNS = ("rank", "org_name", "score", "total", "closed", "completion_rate",
               "on_time_rate", "overdue")
DOC_WIDTHS = (13, 42, 16, 18, 18, 19, 19, 15)
#: A Chinese ranking sheet's face (the summary's).
SHEET_FONT = reports.SHEET_FONT


def percent(rate: float | None) -> str:
    """A rate as the tables print it (— when there is none)."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def formula_note() -> str:
    """How the score is made, in the reader's language."""
    return str(_l("Score = 60 × completion rate + 40 × on-time rate − 1 for every 30 days "
                  "overdue in all (at most 20); equal scores share a rank; units without "
                  "findings are not ranked."))


@dataclass
class Ranking:
    """The rows of a ranking and what its files are about."""

    rows: list[dict[str, Any]]
    as_of: date
    campaign: Campaign | None
    unit: Org | None

    @property
    def ranked(self) -> list[dict[str, Any]]:
        """The rows with a rank (with findings), best first."""
        return [r for r in self.rows if r["rank"] is not None]


def load(user: User, campaign_id: int | None, as_of: date, org_id: int | None) -> Ranking:
    """The ranking of the children of ``org_id`` on ``as_of``, with its campaign and unit."""
    rows = ranking.ranking_rows(user, campaign_id, as_of, org_id)
    campaign = db.session.get(Campaign, campaign_id) if campaign_id is not None else None
    return Ranking(rows, as_of, campaign, sheets.report_unit(user, org_id))


def title(data: Ranking) -> str:
    """The title of the ranking's table: the unit, the campaign and its 文号."""
    head = data.campaign.local_title if data.campaign else str(
        _l("Self-inspection and rectification"))
    if data.unit is not None:
        head = f"{data.unit.local_name} {head}"
    text = str(_l("%(campaign)s: ranking of the units", campaign=head))
    if data.campaign is not None and data.campaign.reference:
        text += f"（{data.campaign.reference}）"
    return text


def _cell_value(row: dict[str, Any], key: str) -> Any:
    value = row[key]
    if key in ("completion_rate", "on_time_rate"):
        return percent(value)
    if key == "rank":
        return value if value is not None else "—"
    if key == "score":
        return "—" if value is None else f"{value:.1f}"
    return value


# --- the spreadsheet -----------------------------------------------------------------------


def ranking_xlsx(data: Ranking) -> IO[bytes]:
    """The ranking as a sheet to print: title, 统计截至, the table with the header repeated,
    A4 landscape one page wide, page numbers, the formula below."""
    lang = "bo" if reader_language() == "bo" else "zh"
    book = spreadsheets.Workbook()
    width = len(SHEET_COLUMNS)
    ws = book.sheet(str(_l("Ranking")), widths=SHEET_WIDTHS, freeze="C4",
                    print_title_rows="3:3", landscape=True, fit_width=True, a4=True,
                    font=documents.TIBETAN_FONT if lang == "bo" else SHEET_FONT)
    line = spreadsheets.LINE_POINTS[lang]
    heading = title(data)
    ws.append([ws.cell(heading, bold=True, size=14, align="center", wrap=True)]
              + [None] * (width - 1),
              height=line * 1.4 * spreadsheets.lines_needed(heading, sum(SHEET_WIDTHS) / 1.3))
    ws.merge(1, 1, 1, width)
    ws.append([ws.cell(reports.as_of_line(data.as_of), align="right")] + [None] * (width - 1),
              height=line)
    ws.merge(2, 1, 2, width)
    headings = [str(h) for h in SHEET_COLUMNS.values()]
    ws.append([ws.cell(h, bold=True, boxed=True, align="center", valign="center", wrap=True)
               for h in headings],
              height=line * max(spreadsheets.lines_needed(h, w)
                                for h, w in zip(headings, SHEET_WIDTHS, strict=True)))
    for row in data.rows:
        cells = []
        for key in SHEET_COLUMNS:
            value = row[key]
            if key in ("completion_rate", "on_time_rate") and value is not None:
                cells.append(ws.cell(value, boxed=True, number_format="0.0%"))
            elif key == "org_name":
                cells.append(ws.cell(value, boxed=True, wrap=True))
            else:
                cells.append(ws.cell(value if value is not None else "—", boxed=True,
                                     align="center"))
        ws.append(cells, height=line * spreadsheets.lines_needed(row["org_name"],
                                                                  SHEET_WIDTHS[1]))
    ws.append([])
    note = formula_note()
    ws.append([ws.cell(note, wrap=True)] + [None] * (width - 1),
              height=line * spreadsheets.lines_needed(note, sum(SHEET_WIDTHS)))
    ws.merge(ws.rows, 1, ws.rows, width)
    ws.footer(centre=heading, right=str(_l("Page &P of &N")), size=8)
    return book.save()


# --- the 通报 ------------------------------------------------------------------------------


def _bulletin_title(data: Ranking, lang: str) -> str:
    campaign = (data.campaign.title_bo if lang == "bo" and data.campaign is not None
                and data.campaign.title_bo else
                data.campaign.title if data.campaign is not None else
                str(_l("Self-inspection and rectification")))
    return str(_l("Bulletin on the ranking of the rectification work of %(campaign)s",
                  campaign=campaign))


#: Characters of a 2号 title a line holds (156 mm of text width at 22 pt).
TITLE_LINE = 20


def balanced(title: str, lang: str) -> str:
    """A Chinese title longer than a line broken into lines of even length (the standard
    lays a title out as a trapezium, never a lone last character); Tibetan is left to wrap
    at its syllables."""
    if lang == "bo" or len(title) <= TITLE_LINE:
        return title
    lines = -(-len(title) // TITLE_LINE)
    size = -(-len(title) // lines)
    return "\n".join(title[i:i + size] for i in range(0, len(title), size))


def _bulletin_number(data: Ranking) -> str:
    """The 文号 line, its number left for the office to fill in: 果洛通〔2018〕  号."""
    issuer = short_name(data.unit) if data.unit is not None else ""
    return str(_l("%(issuer)s Bulletin 〔%(year)s〕 No. ___",
                  issuer=issuer, year=data.as_of.year))


def _addressee(data: Ranking) -> str:
    names = [r["org_name"] for r in data.rows]
    if 0 < len(names) <= 8:
        return str(_l("%(units)s:", units=str(_l(", ")).join(names)))
    return str(_l("All units concerned:"))


def _unit_score(row: dict[str, Any]) -> str:
    return str(_l("%(unit)s (%(score)s points, completion rate %(rate)s, %(overdue)s "
                  "overdue)", unit=row["org_name"], score=f"{row['score']:.1f}",
                  rate=percent(row["completion_rate"]), overdue=row["overdue"]))


def bulletin_paragraph(data: Ranking) -> str:
    """The one paragraph: when, on what, how scored, who leads and who trails."""
    ranked = data.ranked
    reference = (f"（{data.campaign.reference}）"
                 if data.campaign is not None and data.campaign.reference else "")
    campaign = data.campaign.local_title if data.campaign is not None else str(
        _l("Self-inspection and rectification"))
    text = str(_l("As of %(date)s, the rectification work of %(n)s units under "
                  "%(campaign)s%(reference)s was ranked by the ledger's figures.",
                  date=format_date(data.as_of), n=len(ranked), campaign=campaign,
                  reference=reference))
    text += formula_note()
    if ranked:
        first = [r for r in ranked if r["rank"] == 1]
        worst = ranked[-1]["rank"]
        last = [r for r in ranked if r["rank"] == worst]
        text += str(_l("First: %(units)s.", units=str(_l("; ")).join(
            _unit_score(r) for r in first)))
        if worst != 1:
            text += str(_l("Last: %(units)s.", units=str(_l("; ")).join(
                _unit_score(r) for r in last)))
        text += str(_l("The units ranked low are to find where they fall short and speed up "
                       "their rectification. The ranking is set out below."))
    else:
        text += str(_l("No unit has findings to rank yet."))
    return text


def bulletin_docx(user: User, campaign_id: int | None, as_of: date, org_id: int | None,
                  lang: str) -> IO[bytes]:
    """The 通报 in Chinese or Tibetan: title, the 文号 line, the addressees, one paragraph
    naming the first and the last, the ranking table, the signature and the date."""
    with force_locale(lang):
        data = load(user, campaign_id, as_of, org_id)
        doc = documents.Document("bo" if lang == "bo" else "zh")
        # The 发文字号, centred above the title as the standard places it under the 版头.
        doc.paragraph(_bulletin_number(data), indent=False, align="center")
        doc.title(balanced(_bulletin_title(data, doc.lang), doc.lang))
        doc.addressee(_addressee(data))
        doc.paragraph(bulletin_paragraph(data))
        header = [str(SHEET_COLUMNS[key]) for key in DOC_COLUMNS]
        doc.table(header, ([_cell_value(r, k) for k in DOC_COLUMNS] for r in data.rows),
                  widths=DOC_WIDTHS, size=documents.SMALL_TABLE_SIZE)
        signer = data.unit.local_name if data.unit is not None else ""
        doc.signature(signer, format_date(as_of))
        return doc.save()


# --- downloads -----------------------------------------------------------------------------


def send_ranking(user: User, fmt: str, campaign_id: int | None, as_of: date,
                 org_id: int | None = None, lang: str | None = None) -> Response:
    """The ranking as a download, for the API and the pages alike: ``xlsx`` (the table) or
    ``docx`` (the 通报, in ``lang`` or the reader's language, Chinese unless Tibetan)."""
    if fmt not in FORMATS:
        raise Invalid(_l("A ranking downloads as xlsx or docx."),
                      errors={"format": [_l("Must be xlsx or docx.")]})
    if fmt == "xlsx":
        data = load(user, campaign_id, as_of, org_id)
        return sheets.send(ranking_xlsx(data), "ranking", data.unit, as_of, "xlsx")
    language = report_language(lang, reader_language())
    body = bulletin_docx(user, campaign_id, as_of, org_id, language)
    with force_locale(language):
        name, fallback = sheets.download_name("bulletin", sheets.report_unit(user, org_id),
                                              as_of, "docx")
    return attachment(body, name, documents.DOCX_MIMETYPE, fallback=fallback)
