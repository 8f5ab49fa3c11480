"""Demo world for the rectification ledger (整改台账), drawn from the seed report.

Pure data: no Flask, no database (hence its length: the report's findings, not logic). The
``demo`` command's loader turns these literals into rows. Source: the 2018 report of 果洛州
and its six counties on the self-inspection of their administrative service centres
(行政服务中心), ordered by 果行公〔2018〕20号.

Contents
--------
``CATEGORIES``
    The seven provincial problem categories (SPEC §8), codes ``C1`` … ``C7``.
``ORGS``
    The organisation tree: prefecture 果洛州 → its centre and six counties → each county's
    centre → two to four window departments the report names for that county. Parents come
    before their children, so the list can be inserted in order.
``USERS`` / ``DEMO_PASSWORD``
    One admin, two supervisors (prefecture and 玛多县), a registrar per centre and two or
    three officers per centre. All share ``DEMO_PASSWORD``.
``CAMPAIGN``
    The one inspection round, 果行公〔2018〕20号.
``WORKING_CAMPAIGN`` / ``WORKING_FINDINGS``
    A second, current round counted in working days (工作日): poor ratings of the windows
    (政务服务"好差评" 差评), each to be put right within a number of working days. Its dates
    are counted back from the day the demo is loaded, so that its pages always show working
    days left and overdue (剩余 N 个工作日, 逾期 N 个工作日).
``FINDINGS``
    The problems each centre's report admits, condensed in the report's own words.
    Required keys: org_code, category_code, title, description, cause, measures,
    owner_username, starts_on, due_on, status. Optional keys:

    ``evidence``
        list of (filename, text content) to attach; present on every ``submitted`` and
        ``closed`` finding (and on one ``in_progress`` one, uploaded but not yet submitted).
    ``closed_on`` / ``closed_by``
        for ``closed`` findings: the verification date and the verifying supervisor's
        username (never the owner; the supervisor's org contains the finding's org).

The demo's tests (tests/test_demo.py) load it through the services, which hold every rule.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, NotRequired, TypedDict

OrgKind = Literal["prefecture", "county", "centre", "department"]
Role = Literal["admin", "supervisor", "registrar", "officer"]
Status = Literal["open", "in_progress", "submitted", "closed"]


class OrgSpec(TypedDict):
    code: str
    name: str
    kind: OrgKind
    parent_code: str | None


class UserSpec(TypedDict):
    username: str
    display_name: str
    email: str
    role: Role
    org_code: str | None
    locale: str | None


class CampaignSpec(TypedDict):
    title: str
    reference: str
    org_code: str
    starts_on: date


class WorkingCampaignSpec(TypedDict):
    title: str
    reference: str | None
    org_code: str
    #: The campaign's first day: this many working days before the day of loading.
    started_working_days_ago: int


class _Finding(TypedDict):
    """What every demo finding names: where, what, whose."""

    org_code: str
    category_code: str
    title: str
    description: str
    cause: str
    measures: str
    owner_username: str


class WorkingFindingSpec(_Finding):
    #: starts_on (and the day it was registered): this many working days before loading.
    started_working_days_ago: int
    #: Registered with due_in_working_days: due_on is this many working days after starts_on.
    due_in_working_days: int
    status: Status
    evidence: NotRequired[list[tuple[str, str]]]
    #: For ``submitted`` and ``closed``: submitted this many working days after starts_on.
    submitted_after: NotRequired[int]
    #: For ``closed``: closed this many working days after starts_on, by ``closed_by``.
    closed_after: NotRequired[int]
    closed_by: NotRequired[str]


class FindingSpec(_Finding):
    starts_on: date
    due_on: date
    status: Status
    evidence: NotRequired[list[tuple[str, str]]]
    closed_on: NotRequired[date]
    closed_by: NotRequired[str]


DEMO_PASSWORD = "demo123456"
EMAIL_DOMAIN = "example.gov.cn"

#: The campaign's start: the report's rectification windows all open on 2018-07-07.
CAMPAIGN_START = date(2018, 7, 7)
#: The day every finding entered the ledger: the report's date (SPEC §9).
REGISTERED_ON = date(2018, 7, 11)
#: The day owners started work on the findings that are not still open (the next Monday).
WORK_STARTED_ON = date(2018, 7, 16)

# --------------------------------------------------------------------------------------
# 1. Categories (SPEC §8, names verbatim)
# --------------------------------------------------------------------------------------

CATEGORIES: list[tuple[str, str]] = [
    ("C1", '审批事项"不集中",群众办事"来回跑"'),
    ("C2", "窗口设置不科学,排队等待时间长"),
    ("C3", "办事指引不清楚,办理事项难搞懂"),
    ("C4", "精细服务不到位,便民设施不便民"),
    ("C5", '大厅管理水平差,"灰色"中介过多'),
    ("C6", "审批服务乱收费,群众办事成本高"),
    ("C7", '"信息孤岛"未消除,政府效能难提升'),
]

# --------------------------------------------------------------------------------------
# 2. Organisation tree
# --------------------------------------------------------------------------------------


def _org(code: str, name: str, kind: OrgKind, parent_code: str | None) -> OrgSpec:
    return {"code": code, "name": name, "kind": kind, "parent_code": parent_code}


ORGS: list[OrgSpec] = [
    _org("GL", "果洛州", "prefecture", None),
    _org("GL-ZX", "果洛州行政服务和公共资源交易中心", "centre", "GL"),
    # The prefecture report lists 税务、社保 among the units moved into its hall.
    _org("GL-SW", "果洛州税务局窗口", "department", "GL-ZX"),
    _org("GL-SB", "果洛州社保局窗口", "department", "GL-ZX"),
    # 玛沁县: the report names 人社、市场监督、民政、国土、公安 as its busiest windows.
    _org("MQ", "玛沁县", "county", "GL"),
    _org("MQ-ZX", "玛沁县人民政府行政服务中心", "centre", "MQ"),
    _org("MQ-RS", "玛沁县人社局窗口", "department", "MQ-ZX"),
    _org("MQ-SJ", "玛沁县市场监督管理局窗口", "department", "MQ-ZX"),
    _org("MQ-MZ", "玛沁县民政局窗口", "department", "MQ-ZX"),
    _org("MQ-GA", "玛沁县公安局窗口", "department", "MQ-ZX"),
    # 甘德县: its report names no unit; 税务、社保 are the windows every county hall has.
    _org("GD", "甘德县", "county", "GL"),
    _org("GD-ZX", "甘德县人民政府行政服务中心", "centre", "GD"),
    _org("GD-SW", "甘德县税务局窗口", "department", "GD-ZX"),
    _org("GD-SB", "甘德县社保局窗口", "department", "GD-ZX"),
    # 达日县: 县残联、市监局、民政局、卫生局、公安局、司法局、税务局、消防大队、社保局.
    _org("DR", "达日县", "county", "GL"),
    _org("DR-ZX", "达日县人民政府行政服务中心", "centre", "DR"),
    _org("DR-SJ", "达日县市监局窗口", "department", "DR-ZX"),
    _org("DR-MZ", "达日县民政局窗口", "department", "DR-ZX"),
    _org("DR-GA", "达日县公安局窗口", "department", "DR-ZX"),
    _org("DR-SB", "达日县社保局窗口", "department", "DR-ZX"),
    # 玛多县: 婚姻登记、企业登记、出入境审核登记 …, and the 民宗局 清真标示牌 window.
    _org("MD", "玛多县", "county", "GL"),
    _org("MD-ZX", "玛多县行政服务中心", "centre", "MD"),
    _org("MD-MZ", "玛多县民政局窗口", "department", "MD-ZX"),
    _org("MD-SJ", "玛多县市场监督管理局窗口", "department", "MD-ZX"),
    _org("MD-GA", "玛多县公安局窗口", "department", "MD-ZX"),
    _org("MD-ZJ", "玛多县民宗局窗口", "department", "MD-ZX"),
    # 班玛县: its report names no unit; 税务、社保 as for 甘德县.
    _org("BM", "班玛县", "county", "GL"),
    _org("BM-ZX", "班玛县行政服务中心", "centre", "BM"),
    _org("BM-SW", "班玛县税务局窗口", "department", "BM-ZX"),
    _org("BM-SB", "班玛县社保局窗口", "department", "BM-ZX"),
    # 久治县: 证照办理、社会保障、税务缴纳、婚姻登记、法律援助, and the 公安户籍窗口.
    _org("JZ", "久治县", "county", "GL"),
    _org("JZ-ZX", "久治县行政服务中心", "centre", "JZ"),
    _org("JZ-GA", "久治县公安局户籍窗口", "department", "JZ-ZX"),
    _org("JZ-SW", "久治县税务局窗口", "department", "JZ-ZX"),
    _org("JZ-MZ", "久治县民政局窗口", "department", "JZ-ZX"),
    _org("JZ-SF", "久治县司法局窗口", "department", "JZ-ZX"),
]

#: Tibetan names (docs/demo-names-bo.md; a native reviewer must check them), by code.
BO_ORG_NAMES = {
    "GL": "མགོ་ལོག་ཁུལ",  # 果洛州
    "GL-ZX": "མགོ་ལོག་ཁུལ་སྲིད་འཛིན་ཞབས་ཞུ་དང་སྤྱི་མཐུན་ཐོན་ཁུངས་ཉོ་ཚོང་ལྟེ་གནས",  # 果洛州行政服务和公共资源交易中心
    "GL-SW": "མགོ་ལོག་ཁུལ་ཁྲལ་དོན་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 果洛州税务局窗口
    "GL-SB": "མགོ་ལོག་ཁུལ་སྤྱི་ཚོགས་འགན་སྲུང་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 果洛州社保局窗口
    "MQ": "རྨ་ཆེན་རྫོང",  # 玛沁县
    "MQ-ZX": "རྨ་ཆེན་རྫོང་མི་དམངས་སྲིད་གཞུང་གི་སྲིད་འཛིན་ཞབས་ཞུ་ལྟེ་གནས",  # 玛沁县人民政府行政服务中心
    "MQ-RS": "རྨ་ཆེན་རྫོང་མི་ཤུགས་ཐོན་ཁུངས་དང་སྤྱི་ཚོགས་འགན་སྲུང་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 玛沁县人社局窗口
    "MQ-SJ": "རྨ་ཆེན་རྫོང་ཁྲོམ་ར་ལྟ་ཞིབ་དོ་དམ་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 玛沁县市场监督管理局窗口
    "MQ-MZ": "རྨ་ཆེན་རྫོང་དམངས་སྲིད་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 玛沁县民政局窗口
    "MQ-GA": "རྨ་ཆེན་རྫོང་སྤྱི་བདེ་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 玛沁县公安局窗口
    "GD": "དགའ་བདེ་རྫོང",  # 甘德县
    "GD-ZX": "དགའ་བདེ་རྫོང་མི་དམངས་སྲིད་གཞུང་གི་སྲིད་འཛིན་ཞབས་ཞུ་ལྟེ་གནས",  # 甘德县人民政府行政服务中心
    "GD-SW": "དགའ་བདེ་རྫོང་ཁྲལ་དོན་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 甘德县税务局窗口
    "GD-SB": "དགའ་བདེ་རྫོང་སྤྱི་ཚོགས་འགན་སྲུང་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 甘德县社保局窗口
    "DR": "དར་ལག་རྫོང",  # 达日县
    "DR-ZX": "དར་ལག་རྫོང་མི་དམངས་སྲིད་གཞུང་གི་སྲིད་འཛིན་ཞབས་ཞུ་ལྟེ་གནས",  # 达日县人民政府行政服务中心
    "DR-SJ": "དར་ལག་རྫོང་ཁྲོམ་ར་ལྟ་ཞིབ་དོ་དམ་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 达日县市监局窗口
    "DR-MZ": "དར་ལག་རྫོང་དམངས་སྲིད་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 达日县民政局窗口
    "DR-GA": "དར་ལག་རྫོང་སྤྱི་བདེ་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 达日县公安局窗口
    "DR-SB": "དར་ལག་རྫོང་སྤྱི་ཚོགས་འགན་སྲུང་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 达日县社保局窗口
    "MD": "རྨ་སྟོད་རྫོང",  # 玛多县
    "MD-ZX": "རྨ་སྟོད་རྫོང་སྲིད་འཛིན་ཞབས་ཞུ་ལྟེ་གནས",  # 玛多县行政服务中心
    "MD-MZ": "རྨ་སྟོད་རྫོང་དམངས་སྲིད་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 玛多县民政局窗口
    "MD-SJ": "རྨ་སྟོད་རྫོང་ཁྲོམ་ར་ལྟ་ཞིབ་དོ་དམ་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 玛多县市场监督管理局窗口
    "MD-GA": "རྨ་སྟོད་རྫོང་སྤྱི་བདེ་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 玛多县公安局窗口
    "MD-ZJ": "རྨ་སྟོད་རྫོང་མི་རིགས་ཆོས་ལུགས་ལས་དོན་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 玛多县民宗局窗口
    "BM": "པད་མ་རྫོང",  # 班玛县
    "BM-ZX": "པད་མ་རྫོང་སྲིད་འཛིན་ཞབས་ཞུ་ལྟེ་གནས",  # 班玛县行政服务中心
    "BM-SW": "པད་མ་རྫོང་ཁྲལ་དོན་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 班玛县税务局窗口
    "BM-SB": "པད་མ་རྫོང་སྤྱི་ཚོགས་འགན་སྲུང་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 班玛县社保局窗口
    "JZ": "གཅིག་སྒྲིལ་རྫོང",  # 久治县
    "JZ-ZX": "གཅིག་སྒྲིལ་རྫོང་སྲིད་འཛིན་ཞབས་ཞུ་ལྟེ་གནས",  # 久治县行政服务中心
    "JZ-GA": "གཅིག་སྒྲིལ་རྫོང་སྤྱི་བདེ་ཅུས་ཀྱི་ཐེམ་ཐོའི་སྒེའུ་ཁུང",  # 久治县公安局户籍窗口
    "JZ-SW": "གཅིག་སྒྲིལ་རྫོང་ཁྲལ་དོན་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 久治县税务局窗口
    "JZ-MZ": "གཅིག་སྒྲིལ་རྫོང་དམངས་སྲིད་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 久治县民政局窗口
    "JZ-SF": "གཅིག་སྒྲིལ་རྫོང་ཁྲིམས་བཅོལ་ཅུས་ཀྱི་སྒེའུ་ཁུང",  # 久治县司法局窗口
}

BO_CATEGORY_NAMES = {
    # 审批事项"不集中",群众办事"来回跑"
    "C1": ("ཞིབ་དཔྱད་ཆོག་མཆན་གྱི་དོན་ཚན་“ཕྱོགས་གཅིག་ཏུ་མ་བསྡུས་པ”། "
           "མང་ཚོགས་ཀྱིས་ལས་དོན་སྒྲུབ་པར་“ཕར་འགྲོ་ཚུར་ཡོང་”བྱེད་དགོས་པ"),
    # 窗口设置不科学,排队等待时间长
    "C2": ("སྒེའུ་ཁུང་གི་བཀོད་སྒྲིག་ཚན་རིག་དང་མི་མཐུན་པ། "
           "གྲལ་སྒྲིག་ནས་སྒུག་པའི་དུས་ཚོད་རིང་བ"),
    # 办事指引不清楚,办理事项难搞懂
    "C3": ("ལས་དོན་སྒྲུབ་ཕྱོགས་ཀྱི་མཛུབ་སྟོན་གསལ་པོ་མེད་པ། "
           "སྒྲུབ་དགོས་པའི་དོན་ཚན་གོ་དཀའ་བ"),
    # 精细服务不到位,便民设施不便民
    "C4": ("ཞིབ་ཚགས་ཀྱི་ཞབས་ཞུ་ཚད་ལ་མ་སླེབས་པ། "
           "དམངས་ལ་སྟབས་བདེ་བའི་སྒྲིག་ཆས་སྟབས་བདེ་མིན་པ"),
    # 大厅管理水平差,"灰色"中介过多
    "C5": ("ཞབས་ཞུའི་ཁང་ཆེན་གྱི་དོ་དམ་ཆུ་ཚད་དམའ་བ། "
           "“ཐལ་མདོག”གི་བར་མི་མང་དྲགས་པ"),
    # 审批服务乱收费,群众办事成本高
    "C6": ("ཞིབ་དཔྱད་ཆོག་མཆན་ཞབས་ཞུའི་ཐོག་ཚད་མེད་དུ་གླ་ཆ་སྡུད་པ། "
           "མང་ཚོགས་ཀྱིས་ལས་དོན་སྒྲུབ་པའི་འགྲོ་གྲོན་ཆེ་བ"),
    # "信息孤岛"未消除,政府效能难提升
    "C7": ("“ཆ་འཕྲིན་གྱི་གླིང་ཕྲན་ཁེར་རྐྱང”སེལ་མེད་པ། "
           "སྲིད་གཞུང་གི་ལས་ཕྱོད་མཐོ་རུ་གཏོང་དཀའ་བ"),
}


# --------------------------------------------------------------------------------------
# 3. Users (all with DEMO_PASSWORD)
# --------------------------------------------------------------------------------------


def _user(username: str, display_name: str, role: Role, org_code: str | None,
          locale: str | None = None) -> UserSpec:
    return {
        "username": username,
        "display_name": display_name,
        "email": f"{username}@{EMAIL_DOMAIN}",
        "role": role,
        "org_code": org_code,
        "locale": locale,
    }


USERS: list[UserSpec] = [
    _user("admin", "系统管理员", "admin", None),
    _user("gesang.admin", "格桑", "admin", None, "bo"),  # reads the pages in Tibetan
    # Supervisors: the prefecture's, and one county-level one.
    _user("zhou.supervisor", "周建华", "supervisor", "GL"),
    _user("maduo.supervisor", "才让多杰", "supervisor", "MD", "bo"),
    # 果洛州行政服务和公共资源交易中心
    _user("guoluo.registrar", "李淑芳", "registrar", "GL-ZX"),
    _user("guoluo.officer1", "索南旦增", "officer", "GL-ZX"),
    _user("guoluo.officer2", "王海燕", "officer", "GL-SW"),
    # 玛沁县
    _user("maqin.registrar", "马文斌", "registrar", "MQ-ZX"),
    _user("maqin.officer1", "扎西才让", "officer", "MQ-ZX"),
    _user("maqin.officer2", "张丽", "officer", "MQ-RS"),
    # 甘德县
    _user("gande.registrar", "更登加", "registrar", "GD-ZX", "bo"),
    _user("gande.officer1", "拉毛措", "officer", "GD-ZX", "bo"),
    _user("gande.officer2", "陈志刚", "officer", "GD-SW"),
    _user("gande.officer3", "尼玛", "officer", "GD-SB"),
    # 达日县
    _user("dari.registrar", "赵永红", "registrar", "DR-ZX"),
    _user("dari.officer1", "旦正", "officer", "DR-ZX"),
    _user("dari.officer2", "韩秀英", "officer", "DR-SJ"),
    # 玛多县
    _user("maduo.registrar", "卓玛吉", "registrar", "MD-ZX"),
    _user("maduo.officer1", "桑杰", "officer", "MD-ZX"),
    _user("maduo.officer2", "刘晓燕", "officer", "MD-MZ"),
    _user("maduo.officer3", "公保", "officer", "MD-GA"),
    # 班玛县
    _user("banma.registrar", "杨德明", "registrar", "BM-ZX"),
    _user("banma.officer1", "角巴", "officer", "BM-ZX"),
    _user("banma.officer2", "吴桂兰", "officer", "BM-SW"),
    # 久治县
    _user("jiuzhi.registrar", "东主才让", "registrar", "JZ-ZX"),
    _user("jiuzhi.officer1", "仁青卓玛", "officer", "JZ-ZX"),
    _user("jiuzhi.officer2", "马俊", "officer", "JZ-GA"),
    _user("jiuzhi.officer3", "华旦", "officer", "JZ-MZ"),
]

# --------------------------------------------------------------------------------------
# 4. Campaign
# --------------------------------------------------------------------------------------

CAMPAIGN: CampaignSpec = {
    "title": "行政服务中心自查整改",
    "reference": "果行公〔2018〕20号",
    "org_code": "GL",
    "starts_on": CAMPAIGN_START,
}

# --------------------------------------------------------------------------------------
# 5. Findings
# --------------------------------------------------------------------------------------

_S = CAMPAIGN_START

FINDINGS: list[FindingSpec] = [
    # ---- 果洛州行政服务和公共资源交易中心: the prefecture report's four 存在的问题 ----
    {
        "org_code": "GL-ZX",
        "category_code": "C1",
        "title": "部分审批事项仍未做到应进必进,窗口“只挂号、不看病”",
        "description": (
            "受服务大厅面积及部分事项本身特殊等客观原因,人社、公安、税务等部门普遍设有办事大厅,"
            "各级政府保留的行政许可事项均未达到“应进必进”;一些审批事项虽入驻中心,"
            "审批环节还需拿回原部门办理,没有真正实现一站式审批。"
        ),
        "cause": (
            "“三集中、三到位”落实不充分,没有得到部分窗口单位的配合和支持,"
            "一些审批事项在进驻中心的问题上一直没有得到很好地解决。"
        ),
        "measures": (
            "坚持“应进必进”的原则,整合各种资源,逐步把与群众紧密相关的公共服务事项"
            "和便民服务事项进驻行政服务中心,最大限度的方便群众。"
        ),
        "owner_username": "guoluo.officer1",
        "starts_on": _S,
        "due_on": date(2019, 6, 30),
        "status": "in_progress",
    },
    {
        "org_code": "GL-ZX",
        "category_code": "C2",
        "title": "窗口授权不到位、“两头跑”,各窗口业务量“冷热不均”",
        "description": (
            "部分项目审批仍在原单位办理,现场办结功能不健全;有的窗口单位业务量繁忙,"
            "时有发生排队现象,有的窗口单位就是个摆设,一天没有一起业务办理。"
        ),
        "cause": "部分进驻窗口单位领导对服务窗口工作没有给予足够的重视,窗口授权不到位。",
        "measures": (
            "对进驻窗口单位实行一站式审批一次性办结模式;暂不能一次性办结的事项,按照"
            "“前台受理、后台办理、前台送达”的办理模式,在规定时限内办结。"
        ),
        "owner_username": "guoluo.officer1",
        "starts_on": _S,
        "due_on": date(2019, 3, 31),
        "status": "open",
    },
    {
        "org_code": "GL-ZX",
        "category_code": "C4",
        "title": "服务功能不够到位,停车场等软硬件设施不够完备",
        "description": (
            "有的服务大厅只能办理行政审批事项,有的侧重便民公共服务事项办理;"
            "停车场等软硬件设施不够完备,距综合政务平台存在较大差距。"
        ),
        "cause": "行政服务中心规范化建设差异化较大,政务服务资源整合不足,平台信息化建设相对滞后。",
        "measures": (
            "进一步加强网上政务大厅建设,积极配合全省统一的网上服务大厅、电子监察、"
            "公共资源交易平台建设;通过电视、广播、微信平台等形式搞好政务公开。"
        ),
        "owner_username": "guoluo.officer2",
        "starts_on": _S,
        "due_on": date(2019, 1, 7),
        "status": "in_progress",
        "evidence": [
            (
                "网上政务大厅事项录入进度.txt",
                "果洛州行政服务和公共资源交易中心\n"
                "网上政务大厅事项录入进度(截至2018年9月30日)\n"
                "进驻中心审批服务事项 62 项,已录入 62 项;\n"
                "微信平台已发布办事指南 35 条。\n",
            ),
        ],
    },
    {
        "org_code": "GL-ZX",
        "category_code": "C5",
        "title": "窗口工作人员服务意识和态度有待提升,人员不固定",
        "description": (
            "有的单位把难管理、素质不高、业务不精的工作人员派至窗口;有的单位每周轮流派人"
            "到窗口上班,甚至随时抽回单位工作,致使窗口人员不安心在中心工作。"
        ),
        "cause": "有的单位和部门存在应付支差的思想,窗口工作人员工作积极性不高。",
        "measures": (
            "加强窗口人员的管理,窗口工作人员一经确定,原则上一年内不得随意更换或调整,"
            "由窗口人员负责本单位审批事项的接件、审查办理和办结送达等工作。"
        ),
        "owner_username": "guoluo.officer1",
        "starts_on": _S,
        "due_on": date(2018, 10, 31),
        "status": "closed",
        "closed_on": date(2018, 10, 29),
        "closed_by": "zhou.supervisor",
        "evidence": [
            (
                "窗口工作人员管理办法.txt",
                "果洛州行政服务和公共资源交易中心窗口工作人员管理办法(试行)\n"
                "第五条 窗口工作人员一经确定,原则上一年内不得随意更换或调整。\n"
                "第六条 确需调整的,派驻单位须书面报中心同意。\n",
            ),
            (
                "窗口人员花名册.txt",
                "2018年10月 窗口工作人员花名册\n"
                "进驻单位 18 个,窗口工作人员 42 人,均已固定岗位并签订承诺书。\n",
            ),
        ],
    },
    # ---- 玛沁县: reports few problems; two derived from its 下一步重点工作 ----
    {
        "org_code": "MQ-ZX",
        "category_code": "C1",
        "title": "许可权未能相对集中,联合办理能力有待提升",
        "description": (
            "中心进驻24个部门、设立33个窗口,但部分窗口单位许可权不能相对集中,"
            "统一办理、联合办理、集中办理制度尚不完善。"
        ),
        "cause": "进驻单位授权尚未完全落实,窗口在中心未能真正发挥职能作用。",
        "measures": (
            "加强对中心各窗口单位的效能督导检查;完善统一办理、联合办理、集中办理制度;"
            "积极与进驻单位沟通协调,落实授权,探索相对集中行政许可权的方式和有效途径。"
        ),
        "owner_username": "maqin.officer1",
        "starts_on": _S,
        "due_on": date(2019, 3, 31),
        "status": "in_progress",
    },
    {
        "org_code": "MQ-ZX",
        "category_code": "C7",
        "title": "审批系统未实现窗口与原单位互联互通",
        "description": (
            "中心现有审批系统尚未实现窗口与单位的互联互通,县、乡(镇)“互联网+政务服务”体系尚未建成。"
        ),
        "cause": "互联网信息技术与行政服务融合不深,信息化手段运用不足。",
        "measures": (
            "不断完善中心现有的审批系统,实现窗口与单位的互联互通;打造县、乡(镇)统一架构、"
            "多级联动的“互联网+政务服务”体系,让群众多走网路、少走马路。"
        ),
        "owner_username": "maqin.officer2",
        "starts_on": _S,
        "due_on": date(2019, 6, 30),
        "status": "open",
    },
    # ---- 甘德县: seven problems, one per category, with its 整改措施 ----
    {
        "org_code": "GD-ZX",
        "category_code": "C1",
        "title": "审批事项进驻不彻底,窗口仅起“收发室”作用",
        "description": (
            "部分审批项目至今未纳入中心办理,许多事项要经过分管领导和“一把手”审批,"
            "部分符合办理程序的项目不能在窗口及时办理,群众来回奔波于窗口和单位之间。"
        ),
        "cause": "少数单位对进驻窗口放权或授权不到位。",
        "measures": (
            "坚持“应进必进”原则,与原单位领导协调,该进驻的单位无条件入驻,该放权的放权,"
            "该授权的授权,彻底解决窗口成为派出单位的“中转站”、“收发室”现象。"
        ),
        "owner_username": "gande.officer1",
        "starts_on": _S,
        "due_on": date(2019, 1, 7),
        "status": "in_progress",
    },
    {
        "org_code": "GD-ZX",
        "category_code": "C2",
        "title": "窗口数量不足,业务“冷热不均”,叫号机成了摆设",
        "description": (
            "中心窗口数量不足,硬件设施不齐全;有的单位一天挤满人,时有排队现象发生,"
            "有的单位一天没有一起业务办理;办事群众不按规定叫号,叫号机没有发挥功能。"
        ),
        "cause": "窗口设置未按业务量配置,全年办件量为零的窗口仍占用资源。",
        "measures": (
            "与相关单位领导协调,对全年办件量为零的窗口单位进行资源整合,做到“少而精”,"
            "杜绝“多而滥”;把与群众生产生活息息相关的单位入驻进来。"
        ),
        "owner_username": "gande.officer1",
        "starts_on": _S,
        "due_on": date(2018, 12, 31),
        "status": "open",
    },
    {
        "org_code": "GD-ZX",
        "category_code": "C3",
        "title": "办事指南、一次性告知单未及时更新,引导员职责发挥不明显",
        "description": (
            "有的单位未在窗口明显位置摆放办事指南手册、一次性告知单,有的摆放的是好久之前的;"
            "服务流程向社会公开的不够明了,引导员对前来办事的群众咨询解答、引导不到位。"
        ),
        "cause": "窗口资料更新无人负责,引导员业务知识不足。",
        "measures": (
            "全面公开各窗口审批项目、审批依据、办事流程、收费标准以及所有人员的岗位职责,"
            "保障群众的知情权和监督权;建立巡查机制,按时按点督查。"
        ),
        "owner_username": "gande.registrar",
        "starts_on": _S,
        "due_on": date(2018, 9, 30),
        "status": "closed",
        "closed_on": date(2018, 9, 26),
        "closed_by": "zhou.supervisor",
        "evidence": [
            (
                "办事指南更新清单.txt",
                "甘德县人民政府行政服务中心 办事指南及一次性告知单更新清单\n"
                "2018年9月 共更新办事指南 48 份、一次性告知单 48 份(藏汉双语),\n"
                "已在各窗口明显位置摆放,旧版全部收回。\n",
            ),
        ],
    },
    {
        "org_code": "GD-ZX",
        "category_code": "C4",
        "title": "叫号机、政府信息公开查询区等便民设施成了摆设",
        "description": "叫号机前来办事的群众未曾用过,政府信息公开查询区未曾完善,不能使用。",
        "cause": "便民设施投入不足,建成后缺少维护和使用引导。",
        "measures": (
            "加大便民设施的投入,让便民设施真正做到便民,不能使其成为一个摆设;"
            "加强各窗口之间的相互协作,在管理和服务上进一步改进和创新。"
        ),
        "owner_username": "gande.officer1",
        "starts_on": _S,
        "due_on": date(2019, 3, 31),
        "status": "open",
    },
    {
        "org_code": "GD-ZX",
        "category_code": "C5",
        "title": "窗口工作人员随意调换,多为临聘人员,难管理",
        "description": (
            "有的窗口单位以本单位急需用人为由随意调换窗口工作人员,安排的多为临聘人员,"
            "业务能力不强;与原单位沟通,原单位以人手紧张等理由搪塞。"
        ),
        "cause": "窗口工作人员由原单位管理,中心缺少统一管理的抓手。",
        "measures": (
            "窗口工作人员实行双重管理,业务上接受原单位指导,窗口工作期间以中心管理为主,"
            "服从中心统一管理;进一步完善制度建设。"
        ),
        "owner_username": "gande.officer3",
        "starts_on": _S,
        "due_on": date(2018, 11, 30),
        "status": "in_progress",
    },
    {
        "org_code": "GD-ZX",
        "category_code": "C6",
        "title": "收费事项不公开,收费相关文件出具不全",
        "description": (
            "有的单位对于收费事项不公开,收费的相关文件出具不全,"
            "未能对前来办事的群众做好解惑释疑工作。"
        ),
        "cause": "收费依据和标准未纳入窗口公开内容。",
        "measures": (
            "全面公开各窗口审批项目、审批依据、办事流程、收费标准,"
            "确保窗口工作公开透明,保障群众的知情权和监督权。"
        ),
        "owner_username": "gande.officer2",
        "starts_on": _S,
        "due_on": date(2018, 10, 31),
        "status": "submitted",
        "evidence": [
            (
                "收费标准公示表.txt",
                "甘德县人民政府行政服务中心 收费事项公示表(2018年10月)\n"
                "税务窗口:不动产交易相关税费依法征收,收费依据已上墙公示;\n"
                "其余窗口:证照工本费按省定标准收取,无其他收费。\n",
            ),
        ],
    },
    {
        "org_code": "GD-ZX",
        "category_code": "C7",
        "title": "各单位独立系统不融合、数据不共享,部门衔接不畅",
        "description": (
            "有些单位因工作性质必须使用自己的独立系统,系统不融合、数据不共享,"
            "不同部门之间衔接不畅、缺乏协作,严重制约政府效能提升。"
        ),
        "cause": "上级业务系统各自独立,县级无权整合。",
        "measures": (
            "深化“放管服”,实现“受理、审查、审批”全过程进入窗口;"
            "加强各窗口之间的相互协作,杜绝各扫门前雪的情况。"
        ),
        "owner_username": "gande.officer2",
        "starts_on": _S,
        "due_on": date(2019, 7, 7),
        "status": "open",
    },
    # ---- 达日县: three 存在问题 ----
    {
        "org_code": "DR-ZX",
        "category_code": "C1",
        "title": "“应进未进”现象依然存在,两头办理、明进暗不进",
        "description": (
            "部分审批项目至今未纳入中心办理,许多事项要经过分管领导和“一把手”审批;"
            "依然存在两头办理、两头审批,明进暗不进等现象。"
        ),
        "cause": "少数单位仍然认识不到位,对进驻窗口放权或授权不到位。",
        "measures": (
            "进一步推进“两集中、两到位”工作,实现“受理、审查、审批”全过程进入窗口,"
            "提高窗口现场办结的能力。"
        ),
        "owner_username": "dari.officer1",
        "starts_on": _S,
        "due_on": date(2019, 1, 31),
        "status": "in_progress",
    },
    {
        "org_code": "DR-ZX",
        "category_code": "C5",
        "title": "部分窗口工作人员纪律意识差、服务态度较差",
        "description": (
            "部分窗口工作人员素质不高,纪律意识差,服务意识淡薄,影响窗口形象;"
            "部分窗口没有具体的负责人,有些工作人员中心和原单位两头跑。"
        ),
        "cause": "窗口工作人员不够稳定,中心与原单位管理职责不清。",
        "measures": (
            "窗口工作人员实行双重管理,窗口工作期间以中心管理为主,服从中心统一管理;"
            "进一步完善制度建设,全面提升服务水平、服务质量。"
        ),
        "owner_username": "dari.officer1",
        "starts_on": _S,
        "due_on": date(2018, 10, 15),
        "status": "submitted",
        "evidence": [
            (
                "窗口考勤与巡查记录.txt",
                "达日县人民政府行政服务中心 2018年9月窗口巡查记录\n"
                "每日巡查 3 次,迟到 2 人次、离岗 1 人次,均已通报原单位;\n"
                "各窗口已明确负责人 10 名。\n",
            ),
        ],
    },
    {
        # Mapped to C2: without A/B posts windows stand empty and queues form.
        "org_code": "DR-ZX",
        "category_code": "C2",
        "title": "进驻单位人员紧缺无法实行AB岗,临聘人员流动性大",
        "description": (
            "由于进驻单位人员紧缺,无法实行AB岗,大部分单位入驻人员为临聘人员,"
            "流动性大,对中心的正常工作造成了较大影响。"
        ),
        "cause": "进驻单位编制紧张,不愿派正式人员到窗口。",
        "measures": (
            "定期组织中心人员进行理论学习,加大外出培训学习的力度,"
            "全面快速提升中心工作人员的业务水平和工作能力。"
        ),
        "owner_username": "dari.officer2",
        "starts_on": date(2018, 7, 15),
        "due_on": date(2019, 4, 30),
        "status": "open",
    },
    # ---- 玛多县: seven findings with the report's own 整改时限 ----
    {
        "org_code": "MD-ZX",
        "category_code": "C1",
        "title": "窗口人员业务能力有限,流程不明时群众办事“来回跑”",
        "description": (
            "各单位窗口或多或少地普遍存在这一现象:群众来办事时,对一些流程不明时"
            "还要去原单位找单位主要负责人或办公室骨干人员咨询办理。"
        ),
        "cause": (
            "各单位工作骨干人员紧缺,业务能力强的人员都留在单位内部,不愿意派到窗口工作;"
            "配备到窗口的大多是刚参加工作或业务能力有限的人员。"
        ),
        "measures": (
            "以开办培训班的方式对各单位窗口人员进行业务知识和技能培训,重点学习所涉及的"
            "国家各项政策法规和规章制度,不断提高综合办事能力。"
        ),
        "owner_username": "maduo.officer1",
        "starts_on": _S,
        "due_on": date(2019, 1, 7),
        "status": "in_progress",
    },
    {
        "org_code": "MD-ZX",
        "category_code": "C2",
        "title": "办理流程复杂的事项,群众在办事大厅逗留时间长",
        "description": (
            "排队等待时间长的问题基本不存在,但有时存在群众办事在办事大厅逗留时间长的现象。"
        ),
        "cause": (
            "各单位配备到窗口的工作人员业务办理上熟练操作还欠火候,"
            "遇到办理流程较复杂的服务事项时,在时间上卡的不及时。"
        ),
        "measures": (
            "中心负责人和各单位经常进行交流,熟悉派驻窗口业务办理流程,"
            "共同对窗口工作人员言传身教,提升办事效率,加快办理速度。"
        ),
        "owner_username": "maduo.officer2",
        "starts_on": _S,
        "due_on": date(2019, 1, 7),
        "status": "submitted",
        "evidence": [
            (
                "窗口业务指导记录.txt",
                "玛多县行政服务中心 窗口业务指导记录(2018年7月—12月)\n"
                "与民政、市场监督、公安等进驻单位交流 9 次,\n"
                "婚姻登记平均办理时间由 40 分钟缩短至 20 分钟。\n",
            ),
        ],
    },
    {
        "org_code": "MD-ZX",
        "category_code": "C3",
        "title": "偏远村社少数群众不知晓办事流程",
        "description": (
            "个别偏远村社的群众到县城办事时,对一些办事流程不是太熟悉,"
            "还存在四处打听,依赖包村干部等的现象。"
        ),
        "cause": "各乡镇对窗口行政服务事项宣传没有深入到偏远的村社。",
        "measures": (
            "与各乡镇人民政府紧密配合,必要时派中心管理人员和偏远村社的包村干部结成对子,"
            "到村社宣传政策法规和行政服务事项办理流程。"
        ),
        "owner_username": "maduo.officer1",
        "starts_on": _S,
        "due_on": date(2019, 7, 7),
        "status": "open",
    },
    {
        "org_code": "MD-ZX",
        "category_code": "C4",
        "title": "窗口人员对群众不询问的细节不主动解释,群众多次咨询",
        "description": (
            "办理人员照章办事,对群众不询问的细节不主动解释,以至于群众办完这事,"
            "在另一方面的事项又有所不解,导致多次过来咨询。"
        ),
        "cause": "窗口派遣工作人员主动作为、为民务实的意识还不够强,90后工作人员尤甚。",
        "measures": (
            "组织各单位窗口管理人员进行业务知识和技能培训时,"
            "时刻不忘加强“热心为人民服务”的宗旨意识教育。"
        ),
        "owner_username": "maduo.officer1",
        "starts_on": _S,
        "due_on": date(2018, 8, 7),
        "status": "closed",
        "closed_on": date(2018, 8, 3),
        "closed_by": "maduo.supervisor",
        "evidence": [
            (
                "宗旨意识教育培训签到表.txt",
                "玛多县行政服务中心 “热心为人民服务”宗旨意识教育暨业务培训\n"
                "时间:2018年7月20日  地点:中心二楼会议室\n"
                "参加人员:各进驻单位窗口工作人员 30 人(签到表附后)\n",
            ),
        ],
    },
    {
        "org_code": "MD-ZX",
        "category_code": "C5",
        "title": "个别窗口人员不按时上下班、办事效率和服务态度差",
        "description": (
            "不存在“灰色”中介多的现象,主要是大厅管理上要继续加强:个别工作人员存在"
            "是否按时上下班、办事效率、服务态度等的问题。"
        ),
        "cause": "各单位窗口个别工作人员纪律意识不强,大厅管理制度执行不严。",
        "measures": (
            "推行首位责任制、服务承诺制、即时办理制、限时办结制、责任追究制等40余项制度,"
            "严格遵守上下班制度,杜绝空人空岗现象。"
        ),
        "owner_username": "maduo.registrar",
        "starts_on": _S,
        "due_on": date(2018, 8, 7),
        "status": "closed",
        # Closed three days after its window: counts as 逾期办结 in the reports.
        "closed_on": date(2018, 8, 10),
        "closed_by": "maduo.supervisor",
        "evidence": [
            (
                "中心管理制度汇编.txt",
                "玛多县行政服务中心管理制度汇编(2018年8月修订)\n"
                "一、首问责任制 二、服务承诺制 三、即时办理制 四、限时办结制\n"
                "五、责任追究制 六、预约办理制 七、上门办理服务制 …… 共 42 项\n",
            ),
            (
                "8月考勤汇总.txt",
                "2018年8月1日至8月9日 窗口考勤汇总:应到 32 人,迟到 0 人次,空岗 0 人次。\n",
            ),
        ],
    },
    {
        "org_code": "MD-ZX",
        "category_code": "C6",
        "title": "收费标准及免费事项宣传不够,群众办事前心存疑虑",
        "description": (
            "收费标准都定的很低,能减免的手续费尽量减免,如民宗局窗口免费办理清真标示牌;"
            "但各窗口收费标准或不收费的宣传还不够,群众办事前仍有疑虑。"
        ),
        "cause": "中心在县上举办的各种宣传活动中参与不够,收费政策未宣传到村社。",
        "measures": (
            "年内积极参加县上组织的各项宣讲活动,深入基层一线,进一步加强各窗口"
            "收费标准或不收费的宣传,让群众消除办事前的各种疑虑。"
        ),
        "owner_username": "maduo.officer2",
        # The report gives no 整改时限 for this item; "年内" → the same six-month window
        # as categories 1, 2 and 7.
        "starts_on": _S,
        "due_on": date(2019, 1, 7),
        "status": "in_progress",
    },
    {
        "org_code": "MD-ZX",
        "category_code": "C7",
        "title": "窗口与上级业务指导单位沟通不及时,上下信息资源不能共享",
        "description": (
            "各单位窗口与各自的上级业务指导单位沟通不及时,对惠民政策、服务事项规定掌握不全面,"
            "在互联网上连接不够,部门上下信息资源不能完全共享。"
        ),
        "cause": "各单位窗口工作人员操作计算机技能低,政策知识欠缺,与上级业务指导单位沟通不够。",
        "measures": (
            "加强中心队伍建设和业务技能培训;与上级业务指导部门做到信息资源共享,"
            "多渠道集中向社会公开办事内容、条件、程序、时限、结果和监督办法。"
        ),
        "owner_username": "maduo.officer3",
        "starts_on": _S,
        "due_on": date(2019, 1, 7),
        "status": "open",
    },
    # ---- 班玛县: three 存在的问题 ----
    {
        "org_code": "BM-ZX",
        "category_code": "C4",
        "title": "临时办公场地使用面积较小,基础设施不全",
        "description": "办公场地是临时所设,使用面积较小,基础设施不全,受办公条件等方面因素影响。",
        "cause": "正式办公场所尚未建成。",
        "measures": (
            "在县委、县政府的支持下,争取2018年底搬进正式办公场所,"
            "为扎实开展服务中心工作打下良好的基础。"
        ),
        "owner_username": "banma.officer1",
        "starts_on": _S,
        "due_on": date(2018, 12, 31),
        "status": "submitted",
        "evidence": [
            (
                "搬迁完成情况说明.txt",
                "班玛县行政服务中心 搬迁完成情况说明\n"
                "2018年12月20日,中心整体搬入正式办公场所,设服务窗口 14 个,\n"
                "配备休息座椅、饮水机、免费复印等便民设施。\n",
            ),
        ],
    },
    {
        "org_code": "BM-ZX",
        "category_code": "C5",
        "title": "窗口人员配备难,非专职人员时常无法正常到岗",
        "description": (
            "个别单位业务窗口是非专业专职人员,和原单位无法脱离工作关系,时常无法正常到岗;"
            "要将素质高、服务好、熟悉业务的人员配齐比较困难。"
        ),
        "cause": "窗口人员与原单位工作关系未脱离,中心管理约束力不足。",
        "measures": (
            "设立政务监督信箱、公布举报电话;对为民办事不积极、存在违纪行为的人和事,"
            "依据规范的制度及时处理,做到用制度管人、管事。"
        ),
        "owner_username": "banma.officer2",
        "starts_on": _S,
        "due_on": date(2018, 11, 30),
        "status": "in_progress",
    },
    {
        # Mapped to C3: staff who must relearn 审批程序 cannot explain procedures clearly.
        "org_code": "BM-ZX",
        "category_code": "C3",
        "title": "工作人员对运作机制、审批程序等业务水平有待提高",
        "description": (
            "行政服务中心工作涉及面广、标准高、程序复杂,工作人员对运作机制、"
            "审批程序等方面都需要重新进行学习。"
        ),
        "cause": "缺少系统培训和对先进地区的观摩学习。",
        "measures": (
            "召开会议组织学习行政服务中心建设的相关文件;争取上级部门组织相关人员"
            "到先进地区的行政服务中心观摩考察,汲取借鉴经验。"
        ),
        "owner_username": "banma.officer1",
        "starts_on": date(2018, 8, 1),
        "due_on": date(2019, 5, 31),
        "status": "open",
    },
    # ---- 久治县: categories 1, 4, 5, 7 it admits, plus its three 存在的问题 ----
    {
        "org_code": "JZ-GA",
        "category_code": "C1",
        "title": "无信息采集室,户籍窗口只能咨询预约受理,业务仍在派出所办理",
        "description": (
            "中心没有专门用于户籍窗口办理户籍、身份证的信息采集室,公安户籍窗口只能办理咨询、"
            "预约、受理等事项,具体业务仍然在公安局派出所办理,群众“来回跑”。"
        ),
        "cause": "中心面积约140平方米,为全州最小,建设规模、功能布局、软硬件设施制约。",
        "measures": (
            "要求公安局选派懂政策、业务精、会双语的工作人员进驻,充分授权;"
            "协调场地设立信息采集室,尽快形成“一个窗口受理、一次性告知、限时办结”的服务模式。"
        ),
        "owner_username": "jiuzhi.officer2",
        "starts_on": _S,
        "due_on": date(2019, 6, 30),
        "status": "open",
    },
    {
        "org_code": "JZ-ZX",
        "category_code": "C4",
        "title": "仅能提供打印、饮水、座椅等基本便民服务,精细服务不到位",
        "description": (
            "中心目前为办事群众提供免费打印和复印、饮水、便民座椅、书刊杂志等便民服务,"
            "相比其他地区,还没有条件提供更多更好更周到的精细服务。"
        ),
        "cause": "场地和经费所限。",
        "measures": (
            "进一步加强政务服务,采用方便、快捷的方式为办事群众提供服务;"
            "根据群众需求逐步增加双语引导、代办等精细服务。"
        ),
        "owner_username": "jiuzhi.officer1",
        "starts_on": _S,
        "due_on": date(2019, 3, 31),
        "status": "open",
    },
    {
        "org_code": "JZ-ZX",
        "category_code": "C5",
        "title": "中心仅有一名兼职主任,窗口人员有时擅离岗位、迟到",
        "description": (
            "中心只有一个工作人员,为中心主任且为兼职,大厅交由一名窗口工作人员负责考勤和"
            "请销假初审,有时有工作人员擅离岗位、迟到等现象。不存在审批“灰色”中介问题。"
        ),
        "cause": "中心专职管理人员缺位,考勤制度执行不严。",
        "measures": "严格执行上班签到、请销假制度,每日巡查窗口在岗情况,结果通报派驻单位。",
        "owner_username": "jiuzhi.registrar",
        "starts_on": _S,
        "due_on": date(2018, 9, 30),
        "status": "closed",
        # Closed after its window: 逾期办结.
        "closed_on": date(2018, 10, 8),
        "closed_by": "zhou.supervisor",
        "evidence": [
            (
                "考勤巡查登记表.txt",
                "久治县行政服务中心 窗口考勤巡查登记表(2018年9月)\n"
                "每日上午、下午各巡查一次;擅离岗位 1 人次、迟到 2 人次,已通报派驻单位。\n",
            ),
        ],
    },
    {
        "org_code": "JZ-ZX",
        "category_code": "C7",
        "title": "传统政务服务模式运行,部门间信息共享与业务协同机制欠缺",
        "description": (
            "中心仍然为传统政务服务模式运行,各部门信息系统的数据难以共通共融,"
            "政府部门之间存在信息壁垒和信息孤岛。"
        ),
        "cause": "职能部门之间的信息共享与业务协同机制欠缺。",
        "measures": (
            "推行“互联网+政务服务”模式,促进部门间信息共享,逐步打破传统政务服务模式下的"
            "信息孤岛,改变“单中心、多线条”的政务服务模式。"
        ),
        "owner_username": "jiuzhi.officer1",
        "starts_on": _S,
        "due_on": date(2019, 7, 7),
        "status": "in_progress",
    },
    {
        # 存在的问题 一, mapped to C1: far from “最多跑一次”.
        "org_code": "JZ-ZX",
        "category_code": "C1",
        "title": "政务服务功能发挥不到位,与“最多跑一次”差距很大",
        "description": "中心在建设规模、功能布局、网上服务等方面与“最多跑一次”差距很大。",
        "cause": "全县常住人口少,中心建设规模和功能布局受限。",
        "measures": (
            "进一步深化政务公开,推进行政权力运行的程序化、公开化、电子化,"
            "对各类事项如实公开、及时公开、全面公开。"
        ),
        "owner_username": "jiuzhi.officer1",
        "starts_on": _S,
        "due_on": date(2019, 5, 31),
        "status": "open",
    },
    {
        # 存在的问题 二, mapped to C5.
        "org_code": "JZ-ZX",
        "category_code": "C5",
        "title": "中心人员身份参差不齐,未形成进驻人员统一管理机制",
        "description": (
            "中心工作人员由于身份参差不齐,管理难度大,还未形成进驻单位人员统一管理的"
            "相关机制,影响了中心工作的顺利开展。"
        ),
        "cause": "进驻人员分属各单位,中心缺少统一管理制度。",
        "measures": (
            "明确职责定位,要求各相关部门密切配合、充分授权;"
            "建立进驻单位人员统一管理制度,着力完善运行制度。"
        ),
        "owner_username": "jiuzhi.officer3",
        "starts_on": _S,
        "due_on": date(2018, 12, 31),
        "status": "in_progress",
    },
    {
        # 存在的问题 三, mapped to C7: integration of functions is the 效能 question.
        "org_code": "JZ-ZX",
        "category_code": "C7",
        "title": "部门职能整合有待加强,运行管理处于探索阶段",
        "description": (
            "中心许多工作还处于探索发展阶段,运行管理和部门整合等方面有待进一步改进和完善。"
        ),
        "cause": "行政审批制度改革推进不够深入。",
        "measures": (
            "继续推进行政审批制度改革,做好行政审批事项的事中事后监管,"
            "将中心与转变政府职能、规范行政审批、推进政务公开等重点工作相结合。"
        ),
        "owner_username": "jiuzhi.registrar",
        "starts_on": date(2018, 7, 11),
        "due_on": date(2019, 6, 30),
        "status": "open",
    },
]

#: Each county's (and the prefecture's) findings live in its centre's subtree.
COUNTY_CODES: list[str] = ["MQ", "GD", "DR", "MD", "BM", "JZ"]


# --------------------------------------------------------------------------------------
# 6. A current campaign counted in working days (工作日)
# --------------------------------------------------------------------------------------

#: Poor ratings (差评) of the windows in the 政务服务"好差评" system, each put right within
#: fifteen working days of the rating.  Counted back from the day of loading.
WORKING_CAMPAIGN: WorkingCampaignSpec = {
    "title": "政务服务“好差评”差评整改（按工作日计时）",
    "reference": None,
    "org_code": "GL",
    "started_working_days_ago": 30,
}

#: Working days allowed for each poor rating.
WORKING_DAYS_ALLOWED = 15

WORKING_FINDINGS: list[WorkingFindingSpec] = [
    {
        # Ten working days left (eleven when loaded on a weekend).
        "org_code": "MD-ZX",
        "category_code": "C4",
        "title": "大厅评价器故障,办事群众无法当场评价",
        "description": "群众反映综合窗口评价器按键失灵,办完事无法当场评价,只能事后电话投诉。",
        "cause": "评价器使用多年未维护,故障报修无人跟进。",
        "measures": "更换评价器,指定专人每周检查评价设备,故障当日报修。",
        "owner_username": "maduo.officer1",
        "started_working_days_ago": 5,
        "due_in_working_days": WORKING_DAYS_ALLOWED,
        "status": "in_progress",
    },
    {
        # Overdue by five working days.
        "org_code": "MD-MZ",
        "category_code": "C2",
        "title": "婚姻登记窗口午间无人值守,群众差评",
        "description": "办事群众中午到婚姻登记窗口,无人值守,等候一个多小时,给予差评。",
        "cause": "窗口只有一名工作人员,未落实午间轮岗值守。",
        "measures": "落实午间错时值守,在窗口公示值守人员和联系电话。",
        "owner_username": "maduo.officer2",
        "started_working_days_ago": 20,
        "due_in_working_days": WORKING_DAYS_ALLOWED,
        "status": "in_progress",
    },
    {
        # Three working days left, read in Tibetan by its owner.
        "org_code": "GD-ZX",
        "category_code": "C3",
        "title": "缺少藏汉双语办事指南,牧民群众看不懂",
        "description": "牧民群众反映窗口办事指南只有汉文,看不懂需要准备的材料,多次往返。",
        "cause": "办事指南编印时未考虑藏文版本。",
        "measures": "编印藏汉双语办事指南,在窗口和网上同步公布。",
        "owner_username": "gande.officer1",
        "started_working_days_ago": 12,
        "due_in_working_days": WORKING_DAYS_ALLOWED,
        "status": "open",
    },
    {
        # Put right on time: submitted and closed before its deadline.
        "org_code": "MQ-RS",
        "category_code": "C1",
        "title": "社保卡补办要求重复提交身份证复印件",
        "description": "群众补办社保卡时,窗口要求重复提交已在系统中留存的身份证复印件。",
        "cause": "窗口未调取系统内已有材料,仍按旧清单收件。",
        "measures": "取消重复提交的材料,按新清单收件,已留存材料直接调取。",
        "owner_username": "maqin.officer2",
        "started_working_days_ago": 25,
        "due_in_working_days": WORKING_DAYS_ALLOWED,
        "status": "closed",
        "evidence": [("新收件清单.txt",
                      "社保卡补办收件清单（修订版）：身份证复印件不再重复提交。")],
        "submitted_after": 10,
        "closed_after": 12,
        "closed_by": "zhou.supervisor",
    },
]
