"""The password policy, in one place: every path that sets a password (the admin's form and
API, a reset, the user's own change, the import of users, ``create-admin``) asks it."""

from __future__ import annotations

import math
import secrets
import string
import unicodedata

from flask_babel import lazy_gettext as _l
from werkzeug.security import generate_password_hash

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
#: A temporary password's length: 16 of 57 symbols, about 93 bits of chance.
TEMPORARY_LENGTH = 16
#: The least a made password's chance may be for the fast hash to stay sound.
TEMPORARY_MIN_BITS = 80

# Temporary passwords and the fast hash (issue 24: 1,000 users import in seconds).
#
# A slow hash (scrypt, the production method) exists for passwords people choose: a stolen
# table must not give up "Guoluo2018" to a dictionary in an afternoon, so each guess is made to
# cost ~0.1 s.  A password the ledger makes is no such password: 16 symbols drawn by
# ``secrets`` from 57 are 2**93 equally likely strings, and a single salted SHA-256 per guess
# (Werkzeug's ``pbkdf2:sha256:1``, 1 iteration) leaves an attacker with a stolen table ~2**92
# hashes to try for one account — beyond any budget — whatever the hash costs.  What the slow
# hash buys there is nothing; what it costs is an import of 1,000 users hashing for minutes.
# So a *made* temporary password is hashed with the fast method (its hash says so, see
# ``is_temporary_hash``), and the user must change it at the first sign-in
# (``must_change_password``): the password they choose is hashed with the production method.
# A temporary password an admin types is a person's choice and gets the production hash.
assert TEMPORARY_LENGTH * math.log2(len(_ALPHABET)) >= TEMPORARY_MIN_BITS
TEMPORARY_HASH_METHOD = "pbkdf2:sha256:1"


def temporary_password() -> str:
    """A random password that meets the policy, for an admin to pass on (16 characters,
    about 93 bits: see the note above ``TEMPORARY_HASH_METHOD``)."""
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(TEMPORARY_LENGTH))
        if password_problem(candidate, "") is None:
            return candidate


def hash_temporary_password(password: str) -> str:
    """The fast hash of a password ``temporary_password`` made (never of a chosen one)."""
    if len(password) < TEMPORARY_LENGTH:
        raise ValueError("only a made temporary password gets the fast hash")
    return generate_password_hash(password, method=TEMPORARY_HASH_METHOD)


def is_temporary_hash(password_hash: str) -> bool:
    """Whether ``password_hash`` is the fast hash of a made temporary password."""
    return password_hash.startswith(TEMPORARY_HASH_METHOD + "$")
