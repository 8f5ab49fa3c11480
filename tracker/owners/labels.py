"""Roles and org levels as users read them (lazy: rendered in the reader's language)."""

from __future__ import annotations

from flask_babel import lazy_gettext

ROLE_LABELS = {
    "admin": lazy_gettext("Administrator"),
    "supervisor": lazy_gettext("Supervisor"),
    "registrar": lazy_gettext("Registrar"),
    "officer": lazy_gettext("Responsible officer"),
}

ORG_KIND_LABELS = {
    "prefecture": lazy_gettext("Prefecture"),
    "county": lazy_gettext("County"),
    "centre": lazy_gettext("Service centre"),
    "department": lazy_gettext("Department"),
}
