"""Sign-in against the office's directory (LDAP) for users whose ``auth`` is ``ldap``.

The ledger keeps who they are (org, role, locale) and no password: the directory decides.
The entry is found by ``TRACKER_LDAP_USER_FILTER`` under ``TRACKER_LDAP_BASE_DN`` (as the
search account ``TRACKER_LDAP_BIND_DN`` when one is set, else anonymously), the username
escaped so that it can never widen the filter, and the password is checked by a bind as that
entry.  A directory that cannot be reached is a 503 for its users only.
"""

from __future__ import annotations

import logging

from flask import current_app
from flask_babel import lazy_gettext as _l
from ldap3 import NONE, SUBTREE, Connection, Server
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from tracker.errors import Unavailable

log = logging.getLogger(__name__)

#: Seconds a client is asked to wait before trying the directory again.
RETRY_AFTER = 30


def _unavailable() -> Unavailable:
    return Unavailable(
        _l("The directory (LDAP) cannot be reached now, so sign-in with a directory account "
           "is not possible. Try again later or tell the administrator."),
        reason="directory_unavailable", headers={"Retry-After": str(RETRY_AFTER)})


def user_filter(template: str, username: str) -> str:
    """The search filter for ``username``, its special characters escaped (RFC 4515)."""
    return template.replace("{username}", escape_filter_chars(username))


def check_password(username: str, password: str) -> bool:
    """Whether the directory accepts ``password`` for ``username``; 503 when it is down."""
    cfg = current_app.config
    url = cfg.get("TRACKER_LDAP_URL") or ""
    if not url:
        raise _unavailable()
    if not password:
        return False  # an empty password would be an anonymous bind, which "succeeds"
    timeout = float(cfg.get("TRACKER_LDAP_TIMEOUT") or 5)
    server = Server(url, connect_timeout=timeout, get_info=NONE)
    try:
        search = Connection(server, user=cfg.get("TRACKER_LDAP_BIND_DN") or None,
                            password=cfg.get("TRACKER_LDAP_BIND_PASSWORD") or None,
                            receive_timeout=timeout, read_only=True)
        if not search.bind():
            # The search account itself is refused: the set-up is wrong, not the user.
            log.error("LDAP: the search account cannot bind: %s", search.result)
            raise _unavailable()
        try:
            search.search(cfg.get("TRACKER_LDAP_BASE_DN") or "",
                          user_filter(cfg.get("TRACKER_LDAP_USER_FILTER") or "(uid={username})",
                                      username),
                          search_scope=SUBTREE, attributes=[], size_limit=2)
            found = [e["dn"] for e in search.response or [] if e.get("type") == "searchResEntry"]
        finally:
            search.unbind()
        if len(found) != 1:
            return False  # nobody, or a filter that names several: never guess which
        user = Connection(server, user=found[0], password=password, receive_timeout=timeout,
                          read_only=True)
        try:
            return bool(user.bind())
        finally:
            user.unbind()
    except LDAPException as exc:
        log.warning("LDAP unavailable: %s", exc.__class__.__name__)
        raise _unavailable() from exc
