"""The password policy, in one place: every path that sets a password (the admin's form and
API, a reset, the user's own change, the import of users, ``create-admin``) asks it."""

from __future__ import annotations

import secrets
import string
import unicodedata

from flask_babel import lazy_gettext as _l

from tracker.errors import ValidationError as Invalid

#: SPEC §3 "Accounts": at least this many characters, letters and digits, not the username.
MIN_PASSWORD_LENGTH = 10

#: What the forms say under a new password.
POLICY_TEXT = _l("At least %(n)s characters, with letters and digits; not the username.",
                 n=MIN_PASSWORD_LENGTH)


def _folded(value: str) -> str:
    return unicodedata.normalize("NFKC", value).casefold()


def password_problem(password: str, username: str) -> object | None:
    """What is wrong with ``password`` for the user ``username`` (a lazy text), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _l("At least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        return _l("Use both letters and digits.")
    if username and _folded(password) == _folded(username.strip()):
        return _l("Must not be the username.")
    return None


def check_password(password: str, username: str, field: str = "password") -> None:
    """Refuse (422, naming ``field``) a password the policy does not allow."""
    why = password_problem(password or "", username)
    if why is not None:
        raise Invalid(_l("The password does not meet the rules: %(rules)s", rules=POLICY_TEXT),
                      reason="weak_password", errors={field: [why]})


#: Letters and digits that cannot be misread for one another on paper (no 0/O, 1/l/I).
_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


def temporary_password() -> str:
    """A random password that meets the policy, for an admin to pass on (12 characters)."""
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        if password_problem(candidate, "") is None:
            return candidate
