"""The 整改情况报告's 一、基本情况 says how the unit was chased by hand (SPEC §6): the findings
urged (催办) and the supervision orders it received, answered and let go overdue — as they
stood on the report's day, from supervision's rows, which the ledger asks for through a
signal (the ledger never imports supervision)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import docx

from tests.support.api import bearer
from tracker.extensions import db
from tracker.issues.reports import rectification
from tracker.supervision import service as supervision
from tracker.timeutil import clock

DAY = date(2018, 9, 3)  # a Monday



def _basic(client: Any, world: Any, as_of: date, lang: str = "zh_Hans") -> str:
    resp = client.get("/api/v1/reports/rectification", headers=bearer(world.supervisor),
                      query_string={"campaign_id": world.campaign.id, "org_id": world.county.id,
                                    "as_of": as_of.isoformat(), "lang": lang})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    paragraphs = [p.text for p in docx.Document(io.BytesIO(resp.data)).paragraphs]
    heading = next(i for i, t in enumerate(paragraphs) if t.endswith(
        "基本情况" if lang == "zh_Hans" else "གནས་ཚུལ་རགས་བསྡུས"))
    return paragraphs[heading + 1]


def _chase(world: Any, make: Any) -> None:
    """Three findings of 玛多县; two urged, one of them twice; two orders, one answered, the
    other neither signed for nor answered; an order to 久治县 and a finding of it urged."""
    with clock(date(2018, 7, 11)):
        found = [make.issue(world.centre, world.officer, world.campaign, world.category,
                            starts_on=date(2018, 7, 11), due_on=date(2018, 8, 31),
                            title=f"问题{n}") for n in range(3)]
        other = make.issue(world.other_centre, world.other_officer, world.campaign,
                           world.category, starts_on=date(2018, 7, 11),
                           due_on=date(2018, 8, 31), title="久治问题")
    with clock(date(2018, 8, 20)):
        supervision.urge(world.supervisor, found[0], "请抓紧")
        supervision.urge(world.supervisor, found[1])
        supervision.urge(world.supervisor, other)
        answered = supervision.issue_order(world.supervisor, {
            "org_id": world.county.id, "level": "yellow", "issue_ids": [found[0].id],
            "reply_by": date(2018, 8, 31), "comment": ""})
        supervision.issue_order(world.supervisor, {
            "org_id": world.county.id, "level": "red", "issue_ids": [found[1].id],
            "reply_by": date(2018, 8, 31), "comment": ""})
        supervision.issue_order(world.supervisor, {
            "org_id": world.other_county.id, "level": "red", "issue_ids": [other.id],
            "reply_by": date(2018, 8, 31), "comment": ""})
    with clock(date(2018, 8, 21)):
        supervision.urge(world.supervisor, found[0], "再次催办")
        supervision.acknowledge(world.county_supervisor, answered)
    with clock(date(2018, 8, 28)):
        supervision.reply(world.county_supervisor, answered, "已整改")
    db.session.commit()


def test_basic_situation_counts_urges_and_orders_of_the_day(client, world, make):
    _chase(world, make)
    text = _basic(client, world, DAY)
    assert "上级催办问题2个（共催办3次）；收到督办单2份，已反馈1份，逾期未签收或未反馈1份。" in text
    # Before the answer, both orders were open; the first not yet overdue by its dates.
    before = _basic(client, world, date(2018, 8, 27))
    assert "上级催办问题2个（共催办3次）；收到督办单2份，已反馈0份，逾期未签收或未反馈1份。" \
        in before
    # Before anything was urged or ordered.
    assert "上级催办问题0个（共催办0次）；收到督办单0份" in _basic(client, world, date(2018, 8, 1))


def test_the_tibetan_report_says_the_same_figures(client, world, make):
    _chase(world, make)
    text = _basic(client, world, DAY, "bo")
    assert "གནད་དོན་ 2 ལ་སྐུལ་འདེད་བྱས་ཡོད། (ཁྱོན་བསྡོམས་ཐེངས་ 3)" in text
    assert "ལྟ་ཞིབ་སྐུལ་འདེད་ཐོ་ 2 འབྱོར་བ་ལས་ 1 ལ་ལན་བཏབ་ཟིན། 1 དུས་ཡོལ་ཡོད།" in text


def test_the_ledger_asks_supervision_through_a_signal(app, world, ctx):
    # The ledger's report holds no supervision import; supervision answers the signal.
    assert rectification.supervision_figures.receivers
    fig = rectification.figures(world.supervisor, world.campaign.id, DAY, world.county.id)
    assert fig.supervision == rectification.SupervisionFigures(0, 0, 0, 0, 0)
