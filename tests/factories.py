"""Callable factories with realistic defaults drawn from the seed report.

Every factory flushes and commits, so that API calls made afterwards see the rows.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.models import Campaign, Category, Evidence, Issue
from tracker.owners import service as owners
from tracker.owners.models import Org, User

PASSWORD = "secret-pass-1"
#: Who the factories act as: the rights of an administrator, no user row.
SYSTEM = owners.system_actor("tests")
_seq = itertools.count(1)


@dataclass
class World:
    """A small org tree with users of every role."""

    prefecture: Org
    county: Org
    centre: Org
    department: Org
    other_county: Org
    other_centre: Org
    admin: User
    supervisor: User  # at the prefecture
    county_supervisor: User  # at the county
    registrar: User  # at the county centre
    officer: User  # at the county centre
    officer2: User  # at the department
    other_registrar: User  # at the other county's centre
    other_officer: User  # at the other county's centre
    other_supervisor: User  # at the other county
    category: Category
    category2: Category
    campaign: Campaign


class Factories:
    """``make.org()``, ``make.user()``, ``make.issue()``, … each with overridable defaults."""

    def org(self, name: str | None = None, kind: str = "county", parent: Org | None = None,
            code: str | None = None) -> Org:
        n = next(_seq)
        org = owners.create_org(SYSTEM, code or f"ORG{n}", name or f"玛多县{n}", kind,
                                parent.id if parent else None)
        db.session.commit()
        return org

    def user(self, role: str = "officer", org: Org | None = None, username: str | None = None,
             display_name: str | None = None, email: str | None = None,
             active: bool = True) -> User:
        n = next(_seq)
        username = username or f"{role}{n}"
        user = owners.create_user(
            SYSTEM, username, PASSWORD, role, org.id if org else None,
            display_name=display_name or f"{role}-{n}",
            email=email if email is not None else f"{username}@example.gov.cn", active=active,
        )
        db.session.commit()
        return user

    def category(self, code: str | None = None, name: str | None = None) -> Category:
        n = next(_seq)
        cat = Category(code=code or f"C{n}", name=name or f"窗口设置不科学,排队等待时间长{n}")
        db.session.add(cat)
        db.session.commit()
        return cat

    def campaign(self, org: Org, **kw: Any) -> Campaign:
        values: dict[str, Any] = {
            "title": "行政服务中心自查整改",
            "reference": "果行公〔2018〕20号",
            "starts_on": date(2018, 7, 7),
        }
        values.update(kw)
        camp = Campaign(org_id=org.id, **values)
        db.session.add(camp)
        db.session.commit()
        return camp

    def issue(self, org: Org, owner: User, campaign: Campaign, category: Category,
              actor: User | None = None, status: str = "open", evidence: int = 0,
              **kw: Any) -> Issue:
        """Register an issue through the service, then bring it to ``status``."""
        n = next(_seq)
        values: dict[str, Any] = {
            "campaign_id": campaign.id,
            "org_id": org.id,
            "category_id": category.id,
            "title": f"群众办事来回跑{n}",
            "description": "部分审批事项仍需拿回原部门办理",
            "cause": "窗口授权不到位",
            "measures": "开办培训班,提高窗口人员业务能力",
            "owner_id": owner.id,
            "starts_on": date(2018, 7, 7),
            "due_on": date(2019, 1, 7),
        }
        values.update(kw)
        registrar = actor or self._admin()
        issue = issues.register_issue(registrar, values)
        for i in range(evidence):
            self.evidence(issue, name=f"整改证据{i}.txt")
        if status in ("in_progress", "submitted", "closed"):
            issues.transition(issue, owner, "start")
        if status in ("submitted", "closed"):
            if issue.evidence_count == 0:
                self.evidence(issue)
            issues.transition(issue, owner, "submit")
        if status == "closed":
            issues.transition(issue, self._admin(), "close", "核查属实")
        db.session.commit()
        return issue

    def evidence(self, issue: Issue, name: str = "整改台账.txt",
                 content: bytes = b"rectified") -> Evidence:
        """Attach a small evidence row directly (the evidence service is tested on its own)."""
        import hashlib

        ev = Evidence(issue_id=issue.id, filename=name, stored_name=f"f{next(_seq)}x",
                      content_type="text/plain", size=len(content),
                      sha256=hashlib.sha256(content).hexdigest(), note="")
        db.session.add(ev)
        issue.evidence_count += 1
        db.session.flush()
        return ev

    def _admin(self) -> User:
        from sqlalchemy import select

        admin = db.session.scalar(select(User).where(User.role == "admin").limit(1))
        return admin or self.user("admin", None, username=f"root{next(_seq)}")

    def world(self) -> World:
        """A prefecture, two counties with centres and a department, users of every role."""
        pref = self.org("果洛州", "prefecture", code="GL")
        county = self.org("玛多县", "county", pref, code="MD")
        centre = self.org("玛多县行政服务中心", "centre", county, code="MD-ZX")
        dept = self.org("人社窗口", "department", centre, code="MD-RS")
        other = self.org("久治县", "county", pref, code="JZ")
        other_centre = self.org("久治县行政服务中心", "centre", other, code="JZ-ZX")
        return World(
            prefecture=pref, county=county, centre=centre, department=dept,
            other_county=other, other_centre=other_centre,
            admin=self.user("admin", None, username="admin", display_name="管理员"),
            supervisor=self.user("supervisor", pref, username="zhou", display_name="周督查"),
            county_supervisor=self.user("supervisor", county, username="madosup",
                                        display_name="玛多督查"),
            registrar=self.user("registrar", centre, username="reg", display_name="登记员"),
            officer=self.user("officer", centre, username="off", display_name="才让"),
            officer2=self.user("officer", dept, username="off2", display_name="卓玛"),
            other_registrar=self.user("registrar", other_centre, username="jzreg"),
            other_officer=self.user("officer", other_centre, username="jzoff"),
            other_supervisor=self.user("supervisor", other, username="jzsup"),
            category=self.category("C1", "审批事项\"不集中\",群众办事\"来回跑\""),
            category2=self.category("C2", "窗口设置不科学,排队等待时间长"),
            campaign=self.campaign(pref),
        )
