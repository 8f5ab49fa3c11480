"""Verifying several at once (issue 25 item 12): the 待我验收 page closes the ticked issues with
one comment, each under four eyes and the other rules of a single close, and says per issue
what happened; a refusal undoes that issue alone."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.pages import csrf_token, login, page_client
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.models import Event, Issue


def _submitted(world: Any, make: Any, org: Any = None, owner: Any = None) -> Issue:
    return make.issue(org or world.centre, owner or world.officer, world.campaign,
                      world.category, actor=world.admin, status="submitted")


def _verdicts(page: str) -> dict[int, tuple[str, str]]:
    """Per issue id on the result: closed yes/no and the line's text."""
    found = {}
    for m in re.finditer(r'data-testid="verdict" data-issue="(\d+)" data-closed="(\w+)">(.*?)</li>',
                         page, re.S):
        found[int(m.group(1))] = (m.group(2), re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ",
                                                                          m.group(3))).strip())
    return found


def test_the_ticked_issues_close_with_one_comment_each_under_four_eyes(
        client: FlaskClient, world: Any, make: Any) -> None:
    verifier = world.county_supervisor
    good1, good2 = _submitted(world, make), _submitted(world, make, world.department,
                                                       world.officer2)
    uploaded = _submitted(world, make)
    make.evidence(uploaded).uploaded_by_id = verifier.id  # four eyes: they uploaded evidence
    own = _submitted(world, make, world.county, verifier)  # four eyes: they own it
    stale = _submitted(world, make)
    elsewhere = _submitted(world, make, world.other_centre, world.other_officer)  # not theirs
    db.session.commit()
    login(client, "madosup")
    page = client.get("/verify").text
    # The queue offers what they may close, never what four eyes keeps from them.
    offered = set(map(int, re.findall(r'name="id" value="(\d+)"', page)))
    assert {good1.id, good2.id, stale.id} <= offered
    assert not {uploaded.id, own.id, elsewhere.id} & offered
    versions = dict(re.findall(r'name="version-(\d+)" value="(\d+)"', page))
    # Someone changes one after the page was loaded.
    issues.add_note(stale, world.officer, "补充了现场照片说明")
    db.session.commit()
    ids = [good1.id, good2.id, uploaded.id, own.id, stale.id, elsewhere.id]
    data = {"csrf_token": csrf_token(page), "id": [str(i) for i in ids],
            "comment": "现场核查，整改到位。"}
    for i in ids:
        data[f"version-{i}"] = versions.get(str(i), "1")
    resp = client.post("/verify", data=data)
    assert resp.status_code == 200
    lines = _verdicts(resp.text)
    assert set(lines) == set(ids)
    assert lines[good1.id][0] == lines[good2.id][0] == "yes"
    assert "已销号" in lines[good1.id][1] and good1.title in lines[good1.id][1]
    assert lines[uploaded.id] == ("no", f"未销号 #{uploaded.id} {uploaded.title} "
                                  "您上传过该问题的佐证材料，须由其他督查人员验收。")
    assert lines[own.id][0] == "no" and "这是您负责的问题" in lines[own.id][1]
    assert lines[stale.id][0] == "no" and "已被他人修改" in lines[stale.id][1]
    # Outside their scope: no title, just that there is no such issue.
    assert lines[elsewhere.id][0] == "no" and elsewhere.title not in lines[elsewhere.id][1]
    assert "已销号 2 项，未销号 4 项。" in resp.text
    db.session.expire_all()
    status = {i.id: i.status for i in db.session.scalars(select(Issue).where(Issue.id.in_(ids)))}
    assert status == {good1.id: "closed", good2.id: "closed", uploaded.id: "submitted",
                      own.id: "submitted", stale.id: "submitted", elsewhere.id: "submitted"}
    closes = db.session.execute(select(Event.issue_id, Event.comment, Event.actor_id)
                                .where(Event.kind == "close")).all()
    assert sorted(closes) == sorted([(good1.id, "现场核查，整改到位。", verifier.id),
                                     (good2.id, "现场核查，整改到位。", verifier.id)])
    # The queue left on the page no longer holds what was closed.
    assert f'name="id" value="{good1.id}"' not in resp.text
    assert f'name="id" value="{stale.id}"' in resp.text


def test_the_service_closes_each_in_its_own_savepoint(world: Any, make: Any) -> None:
    one = _submitted(world, make)
    two = make.issue(world.centre, world.officer, world.campaign, world.category,
                     actor=world.admin, status="open", evidence=1)  # not started: 409
    verdicts = issues.close_several(world.county_supervisor, [(two.id, None), (one.id, None)])
    db.session.commit()
    assert [(v.issue_id, v.closed, v.reason) for v in verdicts] == [
        (one.id, True, ""), (two.id, False, "invalid_transition")]
    assert db.session.get(Issue, one.id).status == "closed"
    assert db.session.get(Issue, two.id).status == "open"


def test_nothing_ticked_or_no_verifier(client: FlaskClient, world: Any, make: Any) -> None:
    _submitted(world, make)
    login(client, "madosup")
    page = client.get("/verify").text
    resp = client.post("/verify", data={"csrf_token": csrf_token(page), "comment": "好"})
    assert resp.status_code == 422 and "请勾选要验收的事项。" in resp.text
    officer = page_client(client.application)
    login(officer, "off")
    assert officer.get("/verify").status_code == 403


def test_the_home_links_to_it(client: FlaskClient, world: Any, make: Any) -> None:
    _submitted(world, make)
    login(client, "madosup")
    home = client.get("/").text
    assert 'href="/verify"' in home and "批量验收" in home
