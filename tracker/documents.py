"""The one Word writer: documents laid out as GB/T 9704-2012 lays out official papers.  Knows
no domain (``spreadsheets.py`` is its sibling for xlsx).

A4; margins 37 mm top, 35 mm bottom, 28 mm left, 26 mm right; body 3号 (16 pt) 仿宋_GB2312 on a
fixed line pitch that gives 22 lines a page; the title 2号 (22 pt) 方正小标宋简体 centred;
level-one headings 3号 黑体, level-two 3号 楷体_GB2312; page numbers 4号 (14 pt) as "— N —" at
the foot, odd pages on the right and even pages on the left, each one character in.

The documents name the fonts the standard names, so a government PC that has them renders the
paper as required; elsewhere the office suite substitutes (docs/documents.md).  A Tibetan
document sets the Tibetan font the pages serve on every run and style (Latin, complex script
and East Asian slots alike), keeping the Chinese face only for Chinese text inside it.

Files are spooled like the spreadsheets: in memory while small, on disk beyond a megabyte.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from copy import deepcopy
from typing import IO, Any

from docx import Document as new_document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from tracker.spreadsheets import spool, writable

#: The media type of a .docx file.
DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

#: The fonts GB/T 9704-2012 names.
BODY_FONT = "仿宋_GB2312"
TITLE_FONT = "方正小标宋简体"
HEADING1_FONT = "黑体"
HEADING2_FONT = "楷体_GB2312"
#: The Tibetan face the pages serve (static/fonts, SIL OFL): one face for the screen and paper.
TIBETAN_FONT = "Noto Serif Tibetan"
#: Latin letters and digits in a Chinese document (the standard leaves them to the writer).
LATIN_FONT = "Times New Roman"

#: Sizes by their Chinese names: 2号 22 pt, 3号 16 pt, 4号 14 pt, 小四 12 pt, 五号 10.5 pt.
TITLE_SIZE = Pt(22)
BODY_SIZE = Pt(16)
PAGE_NUMBER_SIZE = Pt(14)
TABLE_SIZE = Pt(12)
SMALL_TABLE_SIZE = Pt(10.5)

#: The page: A4 and the standard's margins.
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Mm(37), Mm(35), Mm(28), Mm(26)
#: Lines a page holds; the fixed pitch is the text block's height over it, rounded down to a
#: twentieth of a point so that the 22nd line still fits (225 mm / 22 = 28.99 pt -> 28.95 pt).
LINES_PER_PAGE = 22
LINE_PITCH = Pt(int((PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM) / LINES_PER_PAGE / 635) / 20)
#: The page number sits 7 mm below the text block (the standard): the footer's distance from
#: the bottom edge leaves room for one 4号 line under that.
FOOTER_DISTANCE = Mm(35 - 7 - 5)
#: The dash either side of the page number (an em dash, as the standard draws it).
PAGE_DASH = "—"
#: Where a placeholder is marked: highlighted, between these brackets.
PLACEHOLDER_OPEN, PLACEHOLDER_CLOSE = "【", "】"


def _fonts(rpr_owner: Any, *, latin: str, east_asian: str, complex_script: str) -> None:
    """Name the run's (or style's) fonts for every script slot; Word reads ``w:eastAsia`` for
    Chinese, ``w:cs`` for complex scripts such as Tibetan, ``w:ascii``/``w:hAnsi`` for the rest."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for slot, name in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asian),
                       ("w:cs", complex_script)):
        fonts.set(qn(slot), name)


def _size(rpr_owner: Any, size: Any) -> None:
    """The run's size for both the simple and the complex-script slot (``w:sz``, ``w:szCs``)."""
    rpr = rpr_owner.get_or_add_rPr()
    half_points = str(int(round(size.pt * 2)))
    for tag in ("w:sz", "w:szCs"):
        element = rpr.find(qn(tag))
        if element is None:
            element = OxmlElement(tag)
            rpr.append(element)
        element.set(qn("w:val"), half_points)


def _cell_text(value: Any) -> str:
    return "" if value is None else writable(str(value))


def _row_property(tr: Any, tag: str) -> None:
    """Add ``tag`` (w:tblHeader, w:cantSplit) to a table row's properties."""
    trpr = tr.find(qn("w:trPr"))
    if trpr is None:
        trpr = OxmlElement("w:trPr")
        tr.insert(1 if tr.find(qn("w:tblPrEx")) is not None else 0, trpr)
    trpr.append(OxmlElement(tag))


def _keep_with_next(p: Any) -> None:
    """``w:keepNext`` on a paragraph's XML (one inside a table row keeps the row with what
    follows the table)."""
    p.get_or_add_pPr().keepNext_val = True  # python-docx's element API: in schema order


def _field(paragraph: Any, instruction: str) -> None:
    """A field (``PAGE``) in the paragraph, as begin / instruction / separate / end runs."""
    for kind, text in (("begin", None), (None, f" {instruction} "), ("separate", None),
                       (None, "1"), ("end", None)):
        run = paragraph.add_run()
        if kind is not None:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run.element.append(char)  # python-docx has no field API: written as XML
        elif text is not None and text.strip() == instruction:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run.element.append(instr)
        else:
            run.text = text or ""


class Document:
    """A GB/T 9704 document in Chinese (``zh``) or Tibetan (``bo``): title, paragraphs,
    headings, tables, a landscape appendix, a signature block; ``save()`` gives the file."""

    def __init__(self, lang: str = "zh") -> None:
        self.lang = "bo" if lang.startswith("bo") else "zh"
        self.doc = new_document()
        self.doc.settings.odd_and_even_pages_header_footer = True  # w:evenAndOddHeaders
        self._styles()
        section = self.doc.sections[0]
        self._page(section, landscape=False)
        self._page_numbers(section)

    # --- fonts and styles -----------------------------------------------------------------

    def face(self, chinese: str) -> dict[str, str]:
        """The fonts of a run whose Chinese face would be ``chinese``: in a Tibetan document
        the Tibetan face everywhere but the East Asian slot (Chinese names and titles)."""
        if self.lang == "bo":
            return {"latin": TIBETAN_FONT, "east_asian": chinese, "complex_script": TIBETAN_FONT}
        return {"latin": LATIN_FONT, "east_asian": chinese, "complex_script": chinese}

    def _styles(self) -> None:
        normal = self.doc.styles["Normal"]
        _fonts(normal.element, **self.face(BODY_FONT))
        _size(normal.element, BODY_SIZE)
        fmt = normal.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = LINE_PITCH
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.widow_control = False  # a fixed grid of 22 lines: no line pushed to the next page
        if self.lang == "bo":
            # The language tag lets the office suite pick Tibetan shaping and line breaks.
            rpr = normal.element.get_or_add_rPr()
            lang = OxmlElement("w:lang")
            lang.set(qn("w:bidi"), "bo-CN")
            rpr.append(lang)

    def _run(self, paragraph: Any, text: str, font: str = BODY_FONT, size: Any = BODY_SIZE,
             *, bold: bool = False) -> Any:
        run = paragraph.add_run(writable(text))
        _fonts(run.element, **self.face(font))
        _size(run.element, size)
        if bold:
            run.bold = True
        return run

    # --- the page -------------------------------------------------------------------------

    def _page(self, section: Any, *, landscape: bool) -> None:
        if landscape:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = PAGE_HEIGHT, PAGE_WIDTH
            # The portrait margins turned with the paper: the binding edge stays on the left
            # of the portrait pages it is bound with.
            section.top_margin, section.bottom_margin = MARGIN_RIGHT, MARGIN_LEFT
            section.left_margin, section.right_margin = MARGIN_TOP, MARGIN_BOTTOM
        else:
            section.orientation = WD_ORIENT.PORTRAIT
            section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
            section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
            section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
        section.footer_distance = FOOTER_DISTANCE
        section.header_distance = Mm(15)

    def _page_numbers(self, section: Any) -> None:
        """"— N —" in 4号 at the foot: odd pages right, even pages left, one character in."""
        for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                              (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
            footer.is_linked_to_previous = False
            paragraph = footer.paragraphs[0]
            paragraph.alignment = align
            fmt = paragraph.paragraph_format
            fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
            if align == WD_ALIGN_PARAGRAPH.RIGHT:
                fmt.right_indent = PAGE_NUMBER_SIZE
            else:
                fmt.left_indent = PAGE_NUMBER_SIZE
            self._run(paragraph, f"{PAGE_DASH} ", size=PAGE_NUMBER_SIZE)
            _field(paragraph, "PAGE")
            for run in paragraph.runs[-5:]:
                _fonts(run.element, **self.face(BODY_FONT))
                _size(run.element, PAGE_NUMBER_SIZE)
            self._run(paragraph, f" {PAGE_DASH}", size=PAGE_NUMBER_SIZE)

    # --- text -----------------------------------------------------------------------------

    def title(self, text: str) -> Any:
        """The title: 2号 方正小标宋简体, centred, followed by an empty line."""
        paragraph = self.doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        # A 22 pt title on a 28.95 pt grid: two grid lines for each title line.
        paragraph.paragraph_format.line_spacing = Pt(LINE_PITCH.pt * 1.2)
        self._run(paragraph, text, TITLE_FONT, TITLE_SIZE)
        self.doc.add_paragraph()
        return paragraph

    def addressee(self, text: str) -> Any:
        """The addressee (主送机关): flush left, ending with a colon."""
        paragraph = self.doc.add_paragraph()
        self._run(paragraph, text)
        return paragraph

    def paragraph(self, text: str = "", *, lead: str | None = None, indent: bool = True,
                  align: str | None = None) -> Any:
        """A body paragraph, first line indented two characters; ``lead`` is a run in front of
        the text in the level-two face (the standard's 楷体 for a paragraph's own heading)."""
        paragraph = self.doc.add_paragraph()
        if indent:
            paragraph.paragraph_format.first_line_indent = Pt(BODY_SIZE.pt * 2)
        if align == "right":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif align == "center":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if lead:
            self._run(paragraph, lead, HEADING2_FONT)
        if text:
            self._run(paragraph, text)
        return paragraph

    def heading1(self, text: str, *, indent: bool = True) -> Any:
        """A level-one heading (一、…): 3号 黑体, indented like the body (flush left for the
        word 附件 above an appendix)."""
        paragraph = self.paragraph(indent=indent)
        self._run(paragraph, text, HEADING1_FONT)
        return paragraph

    def heading2(self, text: str) -> Any:
        """A level-two heading ((一)…): 3号 楷体_GB2312, indented like the body."""
        paragraph = self.paragraph(indent=True)
        self._run(paragraph, text, HEADING2_FONT)
        return paragraph

    def numbered(self, number: str, parts: Iterable[tuple[str, str]]) -> Any:
        """A numbered paragraph: ``number`` (1. …) then each (label, text) part, as one run
        in the body face (the seed report writes 原因分析：… inline, unmarked; one run keeps a
        300-finding report quick to write)."""
        paragraph = self.paragraph(indent=True)
        self._run(paragraph, number + "".join(label + text for label, text in parts))
        return paragraph

    def placeholder(self, text: str) -> Any:
        """A marked placeholder the office writes over: highlighted, between 【 and 】."""
        paragraph = self.paragraph(indent=True)
        run = self._run(paragraph, f"{PLACEHOLDER_OPEN}{text}{PLACEHOLDER_CLOSE}")
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        return paragraph

    def signature(self, org: str, on: str) -> None:
        """The signature block: two empty lines, then the issuing org and the date, right-
        aligned four characters in from the right edge (the standard's 右空四字).  The block
        is kept on the page of what precedes it (a paragraph, or a table's last row): a
        signature never stands alone on a page."""
        blocks = [el for el in self.doc.element.body if el.tag in (qn("w:p"), qn("w:tbl"))]
        if blocks:
            last = blocks[-1]
            if last.tag == qn("w:tbl"):
                last = last.findall(qn("w:tr"))[-1]
            for p in ([last] if last.tag == qn("w:p") else last.iter(qn("w:p"))):
                _keep_with_next(p)
        for text in ("", "", org, on):
            paragraph = self.doc.add_paragraph()
            if text:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                paragraph.paragraph_format.right_indent = Pt(BODY_SIZE.pt * 4)
                self._run(paragraph, text)
            if text != on:
                paragraph.paragraph_format.keep_with_next = True

    # --- tables and sections ---------------------------------------------------------------

    def table(self, header: Sequence[str], rows: Iterable[Sequence[Any]], *,
              widths: Sequence[float] | None = None, size: Any = TABLE_SIZE) -> Any:
        """A bordered table: a bold header row repeated on every page, then ``rows``; cells
        in ``size`` at single spacing (the 22-line grid is for the body text), widths in mm;
        a column whose first value is a number is centred.

        The first data row is made through python-docx and every later one is a copy of its
        XML with the texts replaced: python-docx finds a row's cells by walking the whole
        table, which made a 1,000-row table take a minute.
        """
        table = self.doc.add_table(rows=2, cols=len(header))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        if widths:
            # Both the grid (which LibreOffice reads) and each cell (which Word reads; the
            # copies below carry it).
            table.autofit = False
            for column, width in zip(table.columns, widths, strict=True):
                column.width = Mm(width)
                for cell in column.cells:
                    cell.width = Mm(width)
        head, first = table.rows[0].cells, table.rows[1].cells
        for cell, text in zip(head, header, strict=True):
            self._cell(cell, text, size, bold=True, centre=True)
        # python-docx has no API for row properties: the header row repeats on each page
        # (w:tblHeader) and no row is split across pages (w:cantSplit), written as XML on the
        # table just added (the body's last w:tbl).
        xml = self.doc.element.body.findall(qn("w:tbl"))[-1]
        header_tr, template = xml.findall(qn("w:tr"))
        _row_property(header_tr, "w:tblHeader")
        _row_property(template, "w:cantSplit")
        values = iter(rows)
        first_values = next(values, None)
        if first_values is None:
            xml.remove(template)
            return table
        for cell, value in zip(first, first_values, strict=True):
            # A space holds the run's text element for the copies; the real text follows.
            self._cell(cell, " ", size, centre=isinstance(value, int))
        texts = [tc.find(".//" + qn("w:t")) for tc in template.findall(qn("w:tc"))]
        clean = deepcopy(template)
        for t, value in zip(texts, first_values, strict=True):
            t.text = _cell_text(value)
        for row_values in values:
            tr = deepcopy(clean)
            for t, value in zip(tr.iter(qn("w:t")), row_values, strict=True):
                t.text = _cell_text(value)
            xml.append(tr)
        return table

    def _cell(self, cell: Any, text: str, size: Any, *, bold: bool = False,
              centre: bool = False) -> None:
        paragraph = cell.paragraphs[0]
        fmt = paragraph.paragraph_format
        fmt.first_line_indent = Pt(0)
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
        if centre:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self._run(paragraph, text, size=size, bold=bold)

    def landscape_section(self) -> Any:
        """Start a new page in landscape (an appendix's wide table), numbered on."""
        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        self._page(section, landscape=True)
        return section

    def save(self) -> IO[bytes]:
        """The document in a spooled file, rewound."""
        out = spool()
        self.doc.save(out)
        out.seek(0)
        return out
