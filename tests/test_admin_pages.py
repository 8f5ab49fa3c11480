"""Admin pages start from safe defaults and say what an empty field means."""

from __future__ import annotations

import re

from tests.support.pages import login


def test_a_new_user_starts_as_a_responsible_officer_least_privileged_first(client, world):
    login(client, "admin")
    page = client.get("/admin/users/new").text
    roles = re.findall(r'<option (?:selected )?value="(\w+)"', page.split('name="role"')[1]
                       .split("</select>")[0])
    assert roles == ["officer", "registrar", "supervisor", "admin"]
    assert re.search(r'<option selected value="officer">', page)
    assert "留空则不修改" not in page  # nothing to keep on a new user
    edit = client.get(f"/admin/users/{world.officer.id}").text
    assert "留空则不修改" in edit


def test_the_campaign_form_shows_the_reminder_defaults_in_force(client, world):
    login(client, "admin")
    page = client.get("/admin/campaigns/new").text
    assert 'placeholder="7,3,1,0"' in page and 'placeholder="7"' in page
    assert 'placeholder="3"' in page
    assert "留空则使用现行默认值：7,3,1,0。" in page
