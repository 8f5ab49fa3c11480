"""Spreadsheets of findings as registrars fill them in (the columns of the seed report)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

HEADERS = ["序号", "单位", "问题类别", "问题", "问题描述", "原因分析", "整改措施", "责任人",
           "整改时限"]


def finding_row(n: int, title: str, **kw: Any) -> list[Any]:
    """Row ``n`` of a sheet: a finding of the county centre, overridable by column."""
    values = {
        "org": "MD-ZX", "category": "C1", "owner": "off",
        "window": "2018年7月7日至2019年1月7日",
    }
    values.update(kw)
    return [n, values["org"], values["category"], title, "部分审批事项仍需拿回原部门办理",
            "窗口授权不到位", "开办培训班", values["owner"], values["window"]]


def write_csv(path: str, rows: list[list[Any]], encoding: str = "utf-8-sig",
              headers: list[str] = HEADERS) -> str:
    """Write a CSV sheet with a header row; return its path."""
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def write_xlsx(path: str, rows: list[list[Any]], headers: list[str] = HEADERS) -> str:
    """Write an .xlsx sheet with a header row; return its path."""
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def upload(api: Any, user: Any, path: str, campaign_id: int, name: str | None = None) -> Any:
    """Send a sheet to the import API as ``user``."""
    with open(path, "rb") as fh:
        data = {"file": (io.BytesIO(fh.read()), name or path.rsplit("/", 1)[-1]),
                "campaign_id": str(campaign_id)}
    return api.post("/api/v1/imports", user=user, data=data,
                    content_type="multipart/form-data")
