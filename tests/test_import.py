"""Importing findings from a spreadsheet: dates, encodings, all-or-nothing, the command."""

from __future__ import annotations

import io
import os
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.support.languages import data_of, english_sentences
from tests.support.sheets import HEADERS, finding_row, write_csv, write_xlsx
from tracker import spreadsheets
from tracker.errors import UnsupportedFile, rendered
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues.imports import service as importer
from tracker.issues.imports.service import ImportFailed, import_findings, parse_date, parse_window
from tracker.issues.models import Event, Issue


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- dates -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "2018-07-07", "2018/7/7", "2018.7.7", "2018年7月7日", "2018年7月7", " 2018 年 7 月 7 日 ",
    "20180707", "2018-7-7",
])
def test_every_typed_date_form_is_read(text):
    assert parse_date(text) == date(2018, 7, 7)


def test_excel_date_cells_and_serial_numbers_are_read():
    assert parse_date(datetime(2018, 7, 7, 0, 0)) == date(2018, 7, 7)
    assert parse_date(date(2018, 7, 7)) == date(2018, 7, 7)
    assert parse_date(43288) == date(2018, 7, 7)  # the cell's serial when its format is lost


@pytest.mark.parametrize("text", ["2018-02-30", "七月七日", "2018-07", "", "2018年13月1日"])
def test_a_wrong_date_is_refused_with_the_text(text):
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize("text", [
    "2018年7月7日至2019年1月7日",
    "2018年7月7至2019年1月7日",  # as the seed report writes it
    "(2018年7月7至2019年1月7日)",
    "（2018年7月7日至2019年1月7日）",
    "2018/7/7至2019/1/7",
    "2018-07-07 至 2019-01-07",
    "2018-07-07到2019-01-07",
    "2018.7.7~2019.1.7",
    "2018.7.7～2019.1.7",
    "2018-07-07-2019-01-07",
    "2018-07-07 - 2019-01-07",
    "2018/7/7-2019/1/7",
    "2018年7月7日—2019年1月7日",
    "2018年7月7日——2019年1月7日",
])
def test_every_window_separator_is_read(text):
    assert parse_window(text) == (date(2018, 7, 7), date(2019, 1, 7))


def test_a_window_second_date_may_leave_out_the_year():
    assert parse_window("2018年8月1日至8月9日") == (date(2018, 8, 1), date(2018, 8, 9))


@pytest.mark.parametrize(
    "text", ["2018年7月7日", "2018-07-07 2019-01-07", "半年内", "2018-07-07至"]
)
def test_a_window_that_is_not_two_dates_is_refused(text):
    with pytest.raises(ValueError):
        parse_window(text)


# --- files -----------------------------------------------------------------------------


def test_utf8_csv_with_bom_is_imported(world, tmp_path):
    path = write_csv(str(tmp_path / "ledger.csv"),
                     [finding_row(1, "群众办事来回跑"), finding_row(2, "排队时间长")])
    report = import_findings(path, "ledger.csv", world.campaign.id, world.registrar)
    db.session.commit()
    assert report.created == 2 and report.skipped == [] and report.errors == []
    issue = db.session.scalar(select(Issue).where(Issue.title == "群众办事来回跑"))
    assert issue.org_id == world.centre.id and issue.owner_id == world.officer.id
    assert (issue.starts_on, issue.due_on) == (date(2018, 7, 7), date(2019, 1, 7))
    assert issue.cause == "窗口授权不到位" and issue.status == "open"


def test_utf8_csv_without_bom_is_imported(world, tmp_path):
    path = write_csv(str(tmp_path / "ledger.csv"), [finding_row(1, "群众办事来回跑")],
                     encoding="utf-8")
    assert import_findings(path, "ledger.csv", world.campaign.id, world.registrar).created == 1


def test_gb18030_csv_as_excel_writes_it_in_china_is_imported(world, tmp_path):
    path = write_csv(str(tmp_path / "台账.csv"), [finding_row(1, "群众办事来回跑", owner="才让")],
                     encoding="gb18030")
    report = import_findings(path, "台账.csv", world.campaign.id, world.registrar)
    assert report.created == 1
    issue = db.session.scalar(select(Issue))
    assert issue.title == "群众办事来回跑" and issue.owner_id == world.officer.id


def test_xlsx_with_english_headers_in_another_order_and_date_cells(world, tmp_path):
    headers = ["title", "owner", "org", "category", "starts_on", "due_on", "cause", "measures"]
    path = write_xlsx(str(tmp_path / "ledger.xlsx"), [
        ["窗口设置不科学", "卓玛", "人社窗口", "窗口设置不科学,排队等待时间长",
         datetime(2018, 7, 7), datetime(2018, 8, 7), "窗口少", "增设窗口"],
        ["办事指引不清楚", "off2", "MD-RS", "C2", "2018/7/7", "2018年9月7日", "", ""],
    ], headers=headers)
    report = import_findings(path, "ledger.xlsx", world.campaign.id, world.registrar)
    assert report.created == 2
    first = db.session.scalar(select(Issue).where(Issue.title == "窗口设置不科学"))
    assert first.org_id == world.department.id and first.owner_id == world.officer2.id
    assert first.category_id == world.category2.id
    assert (first.starts_on, first.due_on) == (date(2018, 7, 7), date(2018, 8, 7))
    second = db.session.scalar(select(Issue).where(Issue.title == "办事指引不清楚"))
    assert second.due_on == date(2018, 9, 7)


def test_errors_in_several_rows_are_all_reported_and_nothing_is_saved(world, tmp_path):
    path = write_xlsx(str(tmp_path / "ledger.xlsx"), [
        finding_row(1, "群众办事来回跑"),
        finding_row(2, "排队时间长", org="不存在的单位"),
        finding_row(3, "办事指引不清楚", window="2019年1月7日至2018年7月7日"),
        finding_row(4, "便民设施不便民", owner="jzoff", category="C9"),
        finding_row(5, "", window="半年"),
    ])
    with pytest.raises(ImportFailed) as exc:
        import_findings(path, "ledger.xlsx", world.campaign.id, world.registrar)
    db.session.rollback()
    found = {(e.row, e.column) for e in exc.value.report.errors}
    assert found == {(3, "单位"), (4, "整改时限"), (5, "责任人"), (5, "问题类别"),
                     (6, "问题"), (6, "整改时限")}
    texts = [str(e) for e in exc.value.report.errors]
    assert any(t.startswith("第 3 行") and "不存在的单位" in t for t in texts)
    assert exc.value.status == 422 and exc.value.errors["rows"][0]["row"] == 3
    assert count(Issue) == 0 and count(Event) == 0


def test_missing_columns_are_named(world, tmp_path):
    path = write_csv(str(tmp_path / "ledger.csv"), [["1", "MD-ZX", "群众办事来回跑"]],
                     headers=["序号", "单位", "问题"])
    with pytest.raises(ImportFailed) as exc:
        import_findings(path, "ledger.csv", world.campaign.id, world.registrar)
    columns = {e.column for e in exc.value.report.errors}
    assert columns == {"问题类别", "责任人", "整改时限"}
    assert all(e.row == 1 for e in exc.value.report.errors)


def test_importing_the_same_file_twice_doubles_nothing(world, tmp_path):
    path = write_csv(str(tmp_path / "ledger.csv"),
                     [finding_row(1, "群众办事来回跑"), finding_row(2, "排队时间长")])
    import_findings(path, "ledger.csv", world.campaign.id, world.registrar)
    db.session.commit()
    again = import_findings(path, "ledger.csv", world.campaign.id, world.registrar)
    db.session.commit()
    assert again.created == 0
    assert [s["row"] for s in again.skipped] == [2, 3]
    assert count(Issue) == 2


def test_a_row_repeated_inside_the_file_is_skipped(world, tmp_path):
    path = write_csv(str(tmp_path / "ledger.csv"),
                     [finding_row(1, "群众办事来回跑"), finding_row(2, "群众办事来回跑")])
    report = import_findings(path, "ledger.csv", world.campaign.id, world.registrar)
    assert report.created == 1 and report.skipped[0]["row"] == 3


def test_org_outside_the_registrars_scope_is_an_error(world, tmp_path):
    path = write_csv(str(tmp_path / "ledger.csv"), [finding_row(1, "群众办事来回跑", org="JZ-ZX",
                                                        owner="jzoff")])
    with pytest.raises(ImportFailed) as exc:
        import_findings(path, "ledger.csv", world.campaign.id, world.registrar)
    assert [(e.row, e.column) for e in exc.value.report.errors] == [(2, "单位")]


def test_an_ambiguous_display_name_is_an_error_for_that_row(world, make, tmp_path):
    make.user("officer", world.centre, username="cairang2", display_name="才让")
    path = write_csv(str(tmp_path / "ledger.csv"), [finding_row(1, "群众办事来回跑", owner="才让")])
    with pytest.raises(ImportFailed) as exc:
        import_findings(path, "ledger.csv", world.campaign.id, world.registrar)
    (error,) = exc.value.report.errors
    assert error.column == "责任人" and "请改填用户名" in str(error.message)


@pytest.mark.parametrize("name,content", [
    ("ledger.pdf", b"%PDF-1.4 not a sheet"),
    ("ledger.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100),
    ("ledger.xlsx", b"just some text, not a workbook"),
    ("ledger.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
])
def test_a_wrong_file_type_is_refused_clearly(world, tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnsupportedFile) as exc:
        import_findings(str(path), name, world.campaign.id, world.registrar)
    assert exc.value.status == 415
    assert ".xlsx" in str(exc.value.message) or "xlsx" in str(rendered(exc.value.errors))


def _zip_of(name: str, content: bytes) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize("name,content", [
    ("ledger.xlsx", _zip_of("word/document.xml", b"<w:document/>")),  # a .docx renamed
    # A field larger than any cell (csv's field limit), past the part that is sniffed.
    ("ledger.csv", (",".join(HEADERS) + "\n1,MD-ZX,C1,x,\"" + "长" * 140_000
                    + "\",,,off,2018-07-07至2019-01-07\n").encode()),
])
def test_damaged_files_are_refused_not_crashed_on(world, tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnsupportedFile):
        import_findings(str(path), name, world.campaign.id, world.registrar)


def test_template_has_chinese_headers_and_its_example_row_is_not_imported(world, tmp_path):
    with importer.template_xlsx(world.registrar) as fh:
        content = fh.read()
    rows = list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == ["序号", "单位", "问题类别", "问题", "问题描述", "原因分析", "整改措施",
                             "责任人", "整改时限", "登记日期"]
    assert rows[1][0] == "示例" and rows[1][3].startswith("（示例）")
    # The example alone is no finding; with a real row below it, only the real row counts.
    path = write_xlsx(str(tmp_path / "example.xlsx"), [list(rows[1])], headers=list(rows[0]))
    with pytest.raises(Invalid):
        import_findings(path, "example.xlsx", world.campaign.id, world.registrar)
    real = [1, *rows[1][1:3], "窗口人员不足", "", "", "", *rows[1][7:9], None]
    path = write_xlsx(str(tmp_path / "filled.xlsx"), [list(rows[1]), real],
                      headers=list(rows[0]))
    report = import_findings(path, "filled.xlsx", world.campaign.id, world.registrar)
    assert (report.rows, report.created) == (1, 1)
    assert db.session.scalars(select(Issue.title)).all() == ["窗口人员不足"]


# --- the command -----------------------------------------------------------------------


def test_command_records_the_command_line_as_actor(world, runner, tmp_path):
    path = write_xlsx(str(tmp_path / "ledger.xlsx"), [finding_row(1, "群众办事来回跑")])
    result = runner.invoke(args=["import", path, "--campaign", str(world.campaign.id)])
    assert result.exit_code == 0, result.output
    assert f"已从 {os.path.basename(path)} 导入 1 个问题，跳过 0 个。" in result.output
    event = db.session.scalar(select(Event))
    assert event.actor_id is None
    assert event.actor_label == f"flask import {path} --campaign {world.campaign.id}"
    issue = db.session.scalar(select(Issue))
    assert issue.created_by_id is None
    # The same row and history that registering through the form makes.
    from tracker.issues.service import REGISTRATION_FIELDS

    assert set(event.changes) == set(REGISTRATION_FIELDS)
    assert event.changes["due_on"] == [None, "2019-01-07"] and event.kind == "created"
    assert (issue.version, issue.status, issue.original_due_on) == (1, "open", issue.due_on)


def test_command_as_a_user_records_that_user_and_their_scope(world, runner, tmp_path):
    path = write_csv(str(tmp_path / "ledger.csv"), [finding_row(1, "群众办事来回跑")])
    result = runner.invoke(args=["import", path, "--campaign", str(world.campaign.id),
                                 "--as", "reg"])
    assert result.exit_code == 0, result.output
    event = db.session.scalar(select(Event))
    assert event.actor_id == world.registrar.id and event.actor_label is None

    other = write_csv(str(tmp_path / "jz.csv"),
                      [finding_row(1, "久治排队", org="JZ-ZX", owner="jzoff")])
    result = runner.invoke(args=["import", other, "--campaign", str(world.campaign.id),
                                 "--as", "reg"])
    assert result.exit_code != 0
    assert "第 2 行" in result.output and "单位" in result.output


def test_command_exits_non_zero_naming_every_wrong_row(world, runner, tmp_path):
    path = write_csv(str(tmp_path / "ledger.csv"), [
        finding_row(1, "群众办事来回跑"), finding_row(2, "排队时间长", window="不知道"),
        finding_row(3, "x", owner="nobody"),
    ])
    result = runner.invoke(args=["import", path, "--campaign", str(world.campaign.id)])
    assert result.exit_code == 1
    assert "第 3 行" in result.output and "第 4 行" in result.output
    assert "未导入任何数据" in result.output
    assert count(Issue) == 0


def test_command_refuses_unknown_campaign_and_wrong_type(world, runner, tmp_path):
    path = write_csv(str(tmp_path / "ledger.csv"), [finding_row(1, "群众办事来回跑")])
    result = runner.invoke(args=["import", path, "--campaign", "999", "--lang", "en"])
    assert result.exit_code != 0 and "No campaign with id 999." in result.output
    pdf = tmp_path / "ledger.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    result = runner.invoke(args=["import", str(pdf), "--campaign", str(world.campaign.id)])
    assert result.exit_code != 0 and ".xlsx" in result.output


def test_command_reports_skipped_rows(world, runner, tmp_path):
    path = write_csv(str(tmp_path / "ledger.csv"), [finding_row(1, "群众办事来回跑")])
    runner.invoke(args=["import", path, "--campaign", str(world.campaign.id)])
    result = runner.invoke(args=["import", path, "--campaign", str(world.campaign.id)])
    assert result.exit_code == 0
    assert "第 2 行：群众办事来回跑 — 本次整改工作中已登记。" in result.output
    assert "导入 0 个问题，跳过 1 个。" in result.output
    assert count(Issue) == 1


def _cli_data(world: Any, *paths: str) -> set[str]:
    """What the users typed (names, codes, file names): not sentences of the command."""
    return data_of(world) | {p for path in paths for p in (path, os.path.basename(path))}


def test_command_speaks_chinese_by_default_and_the_language_of_lang(world, runner, tmp_path):
    good = write_csv(str(tmp_path / "ledger.csv"), [finding_row(1, "群众办事来回跑")])
    bad = write_csv(str(tmp_path / "bad.csv"), [
        finding_row(1, "排队时间长", window="不知道"), finding_row(2, "x", owner="nobody"),
        finding_row(3, "久治排队", org="NOPE"),
    ])
    data = _cli_data(world, good, bad, str(tmp_path / "none.csv"))
    outputs = {
        "imported": runner.invoke(args=["import", good, "--campaign", str(world.campaign.id)]),
        "skipped": runner.invoke(args=["import", good, "--campaign", str(world.campaign.id)]),
        "rows": runner.invoke(args=["import", bad, "--campaign", str(world.campaign.id)]),
        "campaign": runner.invoke(args=["import", good, "--campaign", "999"]),
        "file": runner.invoke(args=["import", str(tmp_path / "none.csv"),
                                    "--campaign", str(world.campaign.id)]),
        "user": runner.invoke(args=["import", good, "--campaign", str(world.campaign.id),
                                    "--as", "nobody"]),
    }
    assert [outputs[k].exit_code for k in outputs] == [0, 0, 1, 1, 1, 1]
    for what, result in outputs.items():
        assert result.output.strip(), what
        assert english_sentences(result.output, data) == [], (what, result.output)
    rows = outputs["rows"].output
    for line in ("第 2 行，整改时限：", "第 3 行，责任人：", "第 4 行，单位："):
        assert line in rows, rows
    assert "3 行中有 3 处错误，未导入任何数据。" in rows
    assert "没有这项整改工作" in outputs["campaign"].output
    assert "没有这个文件：" in outputs["file"].output
    assert "没有在用的用户“nobody”。" in outputs["user"].output
    assert count(Issue) == 1

    # --lang bo: the same lines in Tibetan; --lang en: in English.
    tibetan = runner.invoke(args=["import", bad, "--campaign", str(world.campaign.id),
                                  "--lang", "bo"])
    assert tibetan.exit_code == 1
    assert "འཕྲེད་ཕྲེང་ 2" in tibetan.output and "ནང་འདྲེན་བྱས་མེད" in tibetan.output
    assert english_sentences(tibetan.output, data) == [], tibetan.output
    english = runner.invoke(args=["import", good, "--campaign", str(world.campaign.id),
                                  "--lang", "en"])
    assert english.exit_code == 0
    assert "Row 2: 群众办事来回跑 — Already registered in this campaign." in english.output
    assert "Imported 0 finding(s) from ledger.csv; skipped 1." in english.output
    wrong = runner.invoke(args=["import", good, "--campaign", str(world.campaign.id),
                                "--lang", "fr"])
    assert wrong.exit_code == 2 and "zh_Hans" in wrong.output


def test_control_characters_are_an_error_of_their_row_not_sent_to_the_database(world,
                                                                             tmp_path):
    # SPEC §7 "Text is clean": refused as on the form and the API, never silently changed.
    # (A NUL in the first 4 KiB makes the file look binary: refused as not a CSV.)
    filler = [finding_row(i, f"第{i}个问题") for i in range(1, 60)]
    path = write_csv(str(tmp_path / "ledger.csv"),
                     [*filler, finding_row(60, "群众办事\x00来回跑"),
                      finding_row(61, "办事\x0b指引")])
    with pytest.raises(ImportFailed) as exc:
        import_findings(path, "ledger.csv", world.campaign.id, world.registrar)
    db.session.rollback()
    assert [(e.row, e.column) for e in exc.value.report.errors] == [(61, "问题"), (62, "问题")]
    assert db.session.scalar(select(Issue).limit(1)) is None


def test_blank_lines_are_ignored(world, tmp_path):
    path = write_csv(str(tmp_path / "ledger.csv"), [finding_row(1, "群众办事来回跑"), [""] * 9,
                                                   finding_row(2, "排队时间长")])
    report = import_findings(path, "ledger.csv", world.campaign.id, world.registrar)
    assert report.created == 2 and report.rows == 2


def test_encoding_is_decided_on_the_whole_file_not_a_sample(world, tmp_path):
    # Chinese text only after the first 64 KiB of ASCII: still recognised as GB18030.
    filler = [[str(i), "MD-ZX", "C1", f"row-{i:05d}", "", "", "", "off",
               "2018-07-07至2019-01-07"] for i in range(1, 2000)]
    path = write_csv(str(tmp_path / "ledger.csv"), [*filler, finding_row(2000, "群众办事来回跑")],
                     encoding="gb18030")
    assert os.path.getsize(path) > 70_000
    assert spreadsheets.csv_encoding(path) == "gb18030"
    report = import_findings(path, "ledger.csv", world.campaign.id, world.registrar)
    assert report.created == 2000
    assert db.session.scalar(select(Issue).where(Issue.title == "群众办事来回跑")) is not None
