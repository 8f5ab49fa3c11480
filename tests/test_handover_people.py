"""交接 for supervisors (SPEC §3: a supervisor hands over users whose home org is in scope):
the menu leads to a list of the people of their units who own open issues, and from there to
the handover of each."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.pages import csrf_token, login
from tracker.extensions import db
from tracker.issues.models import Issue


def test_a_supervisor_finds_the_people_of_their_units_and_hands_one_over(
        client: FlaskClient, world: Any, make: Any) -> None:
    for _ in range(2):
        make.issue(world.centre, world.officer, world.campaign, world.category,
                   actor=world.admin, status="in_progress")
    make.issue(world.department, world.officer2, world.campaign, world.category,
               actor=world.admin)
    make.issue(world.other_centre, world.other_officer, world.campaign, world.category,
               actor=world.admin)  # another county: not theirs
    login(client, "madosup")
    home = client.get("/").text
    assert 'data-testid="menu-handover"' in home and 'href="/handover"' in home
    page = client.get("/handover").text
    assert "才让" in page and "卓玛" in page and "jzoff" not in page
    assert f'href="/admin/users/{world.officer.id}/handover"' in page
    row = page.split("才让")[1].split("</tr>")[0]
    assert 'data-label="未销号问题">2<' in row
    assert "卓玛" not in client.get("/handover?q=才让").text
    # From there, the handover itself.
    path = f"/admin/users/{world.officer.id}/handover"
    form = client.get(path).text
    resp = client.post(path, data={"csrf_token": csrf_token(form),
                                   "to_user_id": str(world.officer2.id), "comment": "才让调岗"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/handover")
    owners = db.session.scalars(select(Issue.owner_id).where(Issue.org_id == world.centre.id))
    assert set(owners) == {world.officer2.id}


def test_others_have_no_handover_menu_nor_list(client: FlaskClient, world: Any) -> None:
    login(client, "reg")
    assert 'data-testid="menu-handover"' not in client.get("/").text
    assert client.get("/handover").status_code == 403
