"""Real servers for the tests: bin/aiconfigd processes (make build) over a
fresh PostgreSQL database each, found as make test finds it
(AICONFIG_TEST_DATABASE_URL, else scripts/pg.sh)."""

from __future__ import annotations

import atexit
import base64
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Optional

import grpc
from google.protobuf import field_mask_pb2

from aiconfig.v1 import (account_pb2, account_pb2_grpc, author_profile_pb2, author_profile_pb2_grpc, common_pb2,
                         config_pb2, config_pb2_grpc, prompt_pb2, prompt_pb2_grpc)

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(os.environ.get("AICONFIG_BIN") or ROOT / "bin" / "aiconfigd")
# The platform's OpenAI key in these tests: SERVICE callers receive it, and
# nothing may print it.
API_KEY = "sk-test-0123456789abcdefSECRET"


def _psql() -> str:
    found = shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)), None)
    if not found:
        raise RuntimeError("psql not found: install postgresql-client")
    return found


def admin_url() -> str:
    url = os.environ.get("AICONFIG_TEST_DATABASE_URL")
    if not url:
        url = subprocess.run([str(ROOT / "scripts" / "pg.sh")], check=True, capture_output=True, text=True).stdout.strip()
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _random_name(prefix: str) -> str:
    return prefix + base64.b32encode(os.urandom(5)).decode().lower()


def _url(admin: str, name: str) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(admin)._replace(path="/" + name))


_template: Optional[str] = None
_drops: "list[subprocess.Popen]" = []


@atexit.register
def _wait_for_drops() -> None:
    for p in _drops:
        p.wait()


def _migrated_template(admin: str) -> str:
    """A database migrated once per test run; each test's is a copy (as
    the Go tests' pgtestdb does), which is much faster than migrating."""
    global _template
    if _template is None:
        name = _random_name("aiconfig_py_tpl_")
        _sql(f'CREATE DATABASE "{name}"', admin)
        atexit.register(_sql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', admin)
        subprocess.run([str(BIN), "migrate", "up"], env=dict(os.environ, AICONFIG_DATABASE_URL=_url(admin, name)),
                       check=True, capture_output=True)
        _template = name
    return _template


def _sql(query: str, url: str) -> str:
    out = subprocess.run([_psql(), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", query],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


class Database:
    """A fresh, migrated database, with a secret key for API keys."""

    def __init__(self) -> None:
        if not BIN.exists():
            raise RuntimeError(f"{BIN} is missing: run make build (or set AICONFIG_BIN)")
        self.admin = admin_url()
        self.name = _random_name("aiconfig_py_")
        _sql(f'CREATE DATABASE "{self.name}" TEMPLATE "{_migrated_template(self.admin)}"', self.admin)
        self.url = _url(self.admin, self.name)
        self.env = dict(os.environ, AICONFIG_DATABASE_URL=self.url,
                        AICONFIG_SECRET_KEY=base64.b64encode(os.urandom(32)).decode())

    def sql(self, query: str) -> str:
        return _sql(query, self.url)

    def token(self, role: str, account: Optional[str] = None, name: str = "py-test") -> str:
        args = [str(BIN), "token", "create", "--role", role, "--name", name]
        if account:
            args += ["--account", account]
        return subprocess.run(args, env=self.env, check=True, capture_output=True, text=True).stdout.strip()

    def compact(self) -> int:
        """Deletes the whole change history, as retention would (what
        store.CompactChanges does); returns the revision compacted through."""
        return int(self.sql("""
            WITH c AS (DELETE FROM changes RETURNING revision)
            UPDATE revisions SET compacted_through = greatest(compacted_through, (SELECT coalesce(max(revision), 0) FROM c))
            WHERE id = 1 RETURNING compacted_through"""))

    def outage(self) -> Callable[[], None]:
        """Makes the database refuse connections and drops the open ones, as
        a restart would; returns what ends the outage."""
        _sql(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false', self.admin)
        _sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.name}'", self.admin)
        return lambda: _sql(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true', self.admin)

    def drop(self) -> None:
        # In the background (a forced drop takes a second or more); the run
        # waits for them at exit, before the template goes.
        _drops.append(subprocess.Popen(
            [_psql(), "-X", "-q", "-d", self.admin, "-c", f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'],
            stdout=subprocess.DEVNULL))


class Server:
    """An aiconfigd replica at a fixed address, which a test can kill and
    start again."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.addr = f"127.0.0.1:{free_port()}"
        self.metrics = f"127.0.0.1:{free_port()}"
        self.proc: Optional[subprocess.Popen] = None
        self.log = tempfile.NamedTemporaryFile(prefix="aiconfigd-", suffix=".log", delete=False)
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(BIN), "serve", "--listen", self.addr, "--metrics-listen", self.metrics, "--http-listen", "", "--drain-delay", "0s"],
            env=self.db.env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while "aiconfig_cache_listener_connected 1" not in self._scrape():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"aiconfigd did not start; its log: {Path(self.log.name).read_text()[-2000:]}")
            time.sleep(0.02)

    def kill(self) -> None:
        """Ends the process at once, as a crash would."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def close(self) -> None:
        self.kill()
        self.log.close()
        os.unlink(self.log.name)

    def _scrape(self) -> str:
        try:
            with urllib.request.urlopen(f"http://{self.metrics}/metrics", timeout=1) as r:
                return r.read().decode()
        except OSError:
            return ""

    def handled(self, method: str) -> int:
        """Calls of method the server finished (grpc_server_handled_total,
        every code)."""
        total = 0.0
        for m in re.finditer(r'^grpc_server_handled_total\{([^}]*)\} (\S+)$', self._scrape(), re.M):
            if f'grpc_method="{method}"' in m.group(1):
                total += float(m.group(2))
        return int(total)


class Admin:
    """Writes through a replica, with an admin token, on a channel of its own."""

    def __init__(self, server: Server, token: str) -> None:
        self.channel = grpc.insecure_channel(server.addr)
        self.md = (("authorization", "Bearer " + token),)
        self.config = config_pb2_grpc.ConfigServiceStub(self.channel)
        self.prompts = prompt_pb2_grpc.PromptServiceStub(self.channel)
        self.accounts = account_pb2_grpc.AccountServiceStub(self.channel)
        self.profiles = author_profile_pb2_grpc.AuthorProfileServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def set_api_key(self, key: str = API_KEY) -> None:
        self.config.UpdateGlobalSettings(config_pb2.UpdateGlobalSettingsRequest(
            settings=config_pb2.GlobalSettings(openai=config_pb2.IntegrationDefaults(api_key=key)),
            update_mask=field_mask_pb2.FieldMask(paths=["openai.api_key"])), metadata=self.md, timeout=5)

    def account(self, account_id: str, plan: int = common_pb2.PLAN_STARTER) -> int:
        a = self.accounts.UpsertAccount(account_pb2.UpsertAccountRequest(
            account=account_pb2.Account(id=account_id, name=account_id, plan=plan)), metadata=self.md, timeout=5)
        return a.revision

    def set_temperature(self, account_id: str, temperature: float) -> int:
        o = self.config.UpsertIntegrationOverride(config_pb2.UpsertIntegrationOverrideRequest(
            override=config_pb2.IntegrationOverride(account_id=account_id, integration=common_pb2.INTEGRATION_OPENAI,
                                                     temperature=temperature)), metadata=self.md, timeout=5)
        return o.revision

    def customize(self, account_id: str, prompt_type: str, text: str) -> int:
        p = self.prompts.CustomizePrompt(prompt_pb2.CustomizePromptRequest(
            account_id=account_id, prompt_type=prompt_type, text=text), metadata=self.md, timeout=5)
        return p.revision

    def set_tone(self, account_id: str, profile_id: str, tone: str) -> int:
        """Customizes the account's version of a global author profile:
        only its tone."""
        p = self.profiles.UpdateAuthorProfile(author_profile_pb2.UpdateAuthorProfileRequest(
            account_id=account_id, author_profile=author_profile_pb2.AuthorProfile(id=profile_id, tone=tone),
            update_mask=field_mask_pb2.FieldMask(paths=["tone"])), metadata=self.md, timeout=5)
        return p.revision


def wait_for(what: str, cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)
