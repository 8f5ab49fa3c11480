"""Sign-in against the office's directory (LDAP) for users whose ``auth`` is ``ldap``.

The ledger keeps who they are (org, role, locale) and no password: the directory decides.
The entry is found by ``TRACKER_LDAP_USER_FILTER`` under ``TRACKER_LDAP_BASE_DN`` (as the
search account ``TRACKER_LDAP_BIND_DN`` when one is set, else anonymously), the username
escaped so that it can never widen the filter, and the password is checked by a bind as that
entry.  A directory that cannot be reached is a 503 for its users only.
"""

from __future__ import annotations

import logging
import math
import warnings

from flask import current_app
from flask_babel import lazy_gettext as _l

with warnings.catch_warnings():
    # ldap3 2.9.1 imports pyasn1's old names (tagMap, typeMap), which pyasn1 0.6 deprecates;
    # harmless, and said once at import, so kept out of the log (and of the tests' -W error).
    warnings.filterwarnings("ignore", r".* is deprecated\. Please use .* instead\.",
                            DeprecationWarning)
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
    # Whole seconds: ldap3 packs the receive timeout into a socket option as an integer.
    timeout = max(1, math.ceil(float(cfg.get("TRACKER_LDAP_TIMEOUT") or 5)))
    server = Server(url, connect_timeout=timeout, get_info=NONE)
    search = Connection(server, user=cfg.get("TRACKER_LDAP_BIND_DN") or None,
                        password=cfg.get("TRACKER_LDAP_BIND_PASSWORD") or None,
                        receive_timeout=timeout, read_only=True)
    try:
        if not search.bind():
            # The search account itself is refused: the set-up is wrong, not the user.
            log.error("LDAP: the search account cannot bind: %s", search.result)
            raise _unavailable()
        search.search(cfg.get("TRACKER_LDAP_BASE_DN") or "",
                      user_filter(cfg.get("TRACKER_LDAP_USER_FILTER") or "(uid={username})",
                                  username),
                      search_scope=SUBTREE, attributes=[], size_limit=2)
        found = [e["dn"] for e in search.response or [] if e.get("type") == "searchResEntry"]
        if len(found) != 1:
            return False  # nobody, or a filter that names several: never guess which
        user = Connection(server, user=found[0], password=password, receive_timeout=timeout,
                          read_only=True)
        try:
            return bool(user.bind())
        finally:
            _close(user)
    except LDAPException as exc:
        log.warning("LDAP unavailable: %s", exc.__class__.__name__)
        raise _unavailable() from exc
    finally:
        _close(search)


def _close(connection: Connection) -> None:
    """Unbind and close the socket, whatever state the connection was left in."""
    try:
        if connection.bound:
            connection.unbind()
    except LDAPException:
        pass
    sock = getattr(connection, "socket", None)
    if sock is not None:
        sock.close()
