"""A throw-away OpenLDAP server for the tests: Debian's ``slapd`` on a free port, with its
own cn=config and database in a temporary folder, stopped by its PID when the session ends.

``ldap_server`` (session-scoped) yields an ``LdapServer`` with the URL, the base DN, a search
account and the people in it (``PEOPLE``: uid -> password).  Where slapd is missing the tests
that need it skip on a laptop and fail in CI (``conftest._need``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SLAPPASSWD = shutil.which("slappasswd") or "/usr/sbin/slappasswd"
SCHEMAS = "/etc/ldap/schema"
MODULES = "/usr/lib/ldap"

BASE_DN = "dc=guoluo,dc=gov,dc=cn"
ADMIN_DN = f"cn=admin,{BASE_DN}"
ADMIN_PASSWORD = "directory-admin-1"
SEARCH_DN = f"cn=tracker,ou=services,{BASE_DN}"
SEARCH_PASSWORD = "search-account-1"
#: People of the directory: uid -> password.
PEOPLE = {"dawa.officer": "yak-butter-tea-7", "lhamo.registrar": "barley-field-42"}


@dataclass
class LdapServer:
    """A running slapd."""

    url: str
    base_dn: str
    search_dn: str
    search_password: str
    people: dict[str, str]
    pid: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _hash(password: str) -> str:
    return subprocess.run([SLAPPASSWD, "-s", password], check=True, capture_output=True,
                          text=True).stdout.strip()


def _config(folder: str) -> str:
    schemas = "\n".join(f"include: file://{SCHEMAS}/{name}.ldif"
                        for name in ("core", "cosine", "nis", "inetorgperson"))
    return f"""dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {folder}/slapd.pid

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {MODULES}
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{schemas}

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: 50

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {BASE_DN}
olcRootDN: {ADMIN_DN}
olcRootPW: {_hash(ADMIN_PASSWORD)}
olcDbDirectory: {folder}/data
olcDbMaxSize: 10485760
olcAccess: {{0}}to attrs=userPassword by anonymous auth by self write by * none
olcAccess: {{1}}to * by dn.exact="{SEARCH_DN}" read by anonymous read by * read
"""


def _entries() -> str:
    people = "\n".join(f"""dn: uid={uid},ou=people,{BASE_DN}
objectClass: inetOrgPerson
uid: {uid}
cn: {uid}
sn: {uid.split(".")[0]}
userPassword: {_hash(password)}
""" for uid, password in PEOPLE.items())
    return f"""dn: {BASE_DN}
objectClass: dcObject
objectClass: organization
dc: guoluo
o: Guoluo

dn: ou=people,{BASE_DN}
objectClass: organizationalUnit
ou: people

dn: ou=services,{BASE_DN}
objectClass: organizationalUnit
ou: services

dn: {SEARCH_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: tracker
userPassword: {_hash(SEARCH_PASSWORD)}

{people}"""


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: str,
                    seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            with open(log, encoding="utf-8", errors="replace") as fh:
                raise RuntimeError(f"slapd exited with {proc.returncode}: {fh.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("slapd did not start listening")


@pytest.fixture(scope="session")
def ldap_server() -> Iterator[LdapServer]:
    """A real OpenLDAP server with two people and a search account, for the whole session."""
    from tests.conftest import _need

    if not all(os.access(p, os.X_OK) for p in (SLAPD, SLAPADD, SLAPPASSWD)):
        _need("slapd, slapadd and slappasswd are needed (Debian's slapd package)")
    folder = tempfile.mkdtemp(prefix="tracker-ldap-")
    try:
        os.makedirs(os.path.join(folder, "slapd.d"))
        os.makedirs(os.path.join(folder, "data"))
        for name, text, db in (("config.ldif", _config(folder), "0"),
                               ("entries.ldif", _entries(), "1")):
            path = os.path.join(folder, name)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            subprocess.run([SLAPADD, "-n", db, "-F", os.path.join(folder, "slapd.d"), "-l", path],
                           check=True, capture_output=True)
        port = _free_port()
        url = f"ldap://127.0.0.1:{port}"
        # -d 0: in the foreground, so the PID held here is slapd's own.
        log = open(os.path.join(folder, "slapd.log"), "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen([SLAPD, "-d", "0", "-F", os.path.join(folder, "slapd.d"),
                                 "-h", url + "/"], stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_listening(port, proc, os.path.join(folder, "slapd.log"))
            yield LdapServer(url=url, base_dn=BASE_DN, search_dn=SEARCH_DN,
                             search_password=SEARCH_PASSWORD, people=dict(PEOPLE), pid=proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
