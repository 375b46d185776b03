"""Shared harness for the HTTP and client-compatibility suites.

Every test talks HTTP to a real `holdfast serve` process that this harness
starts on a free loopback port with its own temporary data directory, and
stops afterwards. Nothing here assumes a service is already running.

Backends: SQLite by default. With HOLDFAST_TEST_BACKEND=postgres the session
starts one throwaway PostgreSQL cluster (initdb into a temporary directory, a
free loopback port, stopped at session end) and every Server gets a fresh
database of its own, passed with --database (a copy of one migrated once:
see PgCluster.create_migrated_database).
"""
import atexit
import glob
import itertools
import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import requests

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.environ.get("HOLDFAST_BIN", os.path.join(REPO, "target", "release", "holdfast"))
# Relaxed rate limits so the suites are not refused by their own volume.
TEST_CONFIG = os.path.join(REPO, "tests", "holdfast-test.toml")
STARTUP_TIMEOUT_S = 30
STOP_TIMEOUT_S = 15
BACKEND = os.environ.get("HOLDFAST_TEST_BACKEND", "sqlite")
if BACKEND not in ("sqlite", "postgres"):
    raise RuntimeError(f"HOLDFAST_TEST_BACKEND must be sqlite or postgres, not {BACKEND!r}")
PG_START_TIMEOUT_S = 60
# Tries at copying the migrated template while a stopped server's sessions end.
TEMPLATE_BUSY_RETRIES = 25


# Ports are picked below the kernel's ephemeral range, where no outgoing
# connection takes its local port: a port found by binding port 0 is released
# before the server binds it, and in that gap any connect() on the machine can
# take it (the same rule as crates/holdfast-testbed/src/ports.rs).
PICK_FROM_PORT = 10000
EPHEMERAL_FROM_PORT_DEFAULT = 32768
_port_start = random.SystemRandom()


def _ephemeral_from():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return EPHEMERAL_FROM_PORT_DEFAULT


def free_ports(n):
    """n distinct loopback ports, free a moment ago; all are held until every
    one is picked, so none is picked twice."""
    low, high = PICK_FROM_PORT, _ephemeral_from()
    span = high - low
    start = _port_start.randrange(span)
    held = []
    try:
        for step in range(span):  # at most one bind per port of the range
            if len(held) == n:
                break
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", low + (start + step) % span))
            except OSError:
                s.close()
                continue
            held.append(s)
        if len(held) < n:
            raise RuntimeError(f"cannot find {n} free ports in {low}..{high}")
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


def free_port():
    return free_ports(1)[0]


_config_dir = None


def config_file(text):
    """Writes `text` to a new config file that lasts until this test run ends
    (all of them live in one temporary directory, removed at exit)."""
    global _config_dir
    if _config_dir is None:
        _config_dir = tempfile.mkdtemp(prefix="holdfast-test-configs-")
        atexit.register(shutil.rmtree, _config_dir, True)
    fd, path = tempfile.mkstemp(suffix=".toml", dir=_config_dir)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def suite_config_with(extra="", **limits):
    """The suites' config (TEST_CONFIG) with `limits` replaced (values written
    as JSON, which TOML reads for numbers, strings and lists), plus `extra`."""
    with open(TEST_CONFIG) as f:
        base = "".join(line for line in f if line.split("=")[0].strip() not in limits)
    return config_file(base + "".join(f"{k} = {json.dumps(v)}\n" for k, v in limits.items()) + extra)


def _pg_bin():
    if os.environ.get("HOLDFAST_PG_BIN"):
        return os.environ["HOLDFAST_PG_BIN"]
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql; scripts/test does this)")
    return os.path.dirname(found[-1])


class PgCluster:
    """A throwaway PostgreSQL cluster on loopback. PostgreSQL refuses to run as
    root, so as root initdb and postgres run as the `postgres` user (created by
    Debian's package) or `nobody`, owning the temporary directory."""

    def __init__(self):
        self.bin = _pg_bin()
        self.dir = tempfile.mkdtemp(prefix="holdfast-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres" if subprocess.run(["id", "postgres"], capture_output=True).returncode == 0 else "nobody"
            subprocess.run(["chown", "-R", self.user, self.dir], check=True)
            os.chmod(self.dir, 0o755)
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--lc-collate=C", "--lc-ctype=C.UTF-8", "--no-sync")
        # Durability off: these suites test behaviour, not crash safety.
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=300 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "postgres.log"), "-o", opts,
                  "-w", "-t", str(PG_START_TIMEOUT_S), "start")
        self._names = itertools.count()
        self._migrated = None  # the template of create_migrated_database
        self._migrated_lock = threading.Lock()

    def _run(self, tool, *args):
        cmd = [os.path.join(self.bin, tool), *args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            raise RuntimeError(f"{tool} failed: {res.stdout}{res.stderr}")
        return res.stdout

    def psql(self, database, sql):
        res = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                              "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-c", sql],
                             capture_output=True, text=True, timeout=60)
        if res.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed: {res.stderr}")
        return res.stdout.strip()

    def create_database(self, template="template1"):
        """A fresh, empty database (or a copy of `template`); returns its name."""
        name = f"holdfast_{os.getpid()}_{next(self._names)}"
        # A template must have no sessions; those of a server just stopped may
        # take a moment to end.
        for attempt in range(TEMPLATE_BUSY_RETRIES):
            try:
                self.psql("postgres", f"CREATE DATABASE {name} TEMPLATE {template}")
                return name
            except RuntimeError as e:
                if "is being accessed by other users" not in str(e) or attempt == TEMPLATE_BUSY_RETRIES - 1:
                    raise
                time.sleep(0.2)

    def create_migrated_database(self):
        """A fresh database with holdfast's schema: a copy of one the binary
        under test migrated once this session. Migrating took 1.5-2.5 s of each
        server's start at load 15 (copying takes about 0.5 s), and a pass starts
        about 90 servers; migrating an empty database is still what the first
        server does here, and what every store conformance test does."""
        with self._migrated_lock:
            if self._migrated is None:
                name = self.create_database()
                Server(database=self.url(name)).stop()
                self._migrated = name
        return self.create_database(template=self._migrated)

    def url(self, database, port=None):
        return f"postgres://postgres@127.0.0.1:{port or self.port}/{database}"

    def stop(self):
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        except Exception:  # already stopped, or never started: nothing to stop
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


_pg = None
_pg_lock = threading.Lock()


def pg_cluster():
    """The session's cluster, started on first use (postgres backend only)."""
    global _pg
    with _pg_lock:
        if _pg is None:
            _pg = PgCluster()
            atexit.register(_pg.stop)  # also stopped by pytest_sessionfinish; stop() is idempotent
        return _pg


def pytest_sessionfinish(session, exitstatus):
    if _pg is not None:
        _pg.stop()


class Server:
    """One running holdfast process. With the postgres backend it gets a fresh
    database, or `database` (a URL) when given."""

    def __init__(self, extra_args=(), env=None, database=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="holdfast-test-")
        self.data_dir = os.path.join(self.tmp.name, "data")
        self.database = database
        if self.database is None and BACKEND == "postgres":
            self.database = pg_cluster().url(pg_cluster().create_migrated_database())
        db_args = ["--database", self.database] if self.database else []
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "warn"), **(env or {}))
        self.log_path = os.path.join(self.tmp.name, "server.log")
        self.log = open(self.log_path, "w")
        config = [] if "--config" in extra_args else ["--config", TEST_CONFIG]
        args = [BINARY, "serve", "--listen", f"127.0.0.1:{self.port}",
                "--data-dir", self.data_dir, *db_args, "--domain", "localhost", *config, *extra_args]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"holdfast exited early: {open(self.log_path).read()}")
            try:
                if requests.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError("holdfast did not become healthy in time")

    def url(self, path):
        return self.base_url + path

    def cli(self, *args, input=None):
        """Run an operator command (`holdfast user …`) against this server's data directory or database."""
        db_args = ["--database", self.database] if self.database else []
        return subprocess.run([BINARY, *args, "--data-dir", self.data_dir, *db_args], input=input,
                              capture_output=True, text=True, env=self.env, timeout=60)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.tmp.cleanup()


_names = itertools.count()


def unique_name(prefix="user"):
    """Usernames are [a-z0-9_], at most 30 characters."""
    return f"{prefix}{next(_names)}_{uuid.uuid4().hex[:6]}"[:30]


class Client:
    """A signed-up account with a bearer token, plus convenience verbs."""

    def __init__(self, server, token, username, password, email, app):
        self.server, self.token, self.username = server, token, username
        self.password, self.email, self.app = password, email, app
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.account = self.get("/api/v1/accounts/verify_credentials").json()
        self.id = self.account["id"]

    def get(self, path, **kw):
        return self.session.get(self.server.url(path), timeout=30, **kw)

    def post(self, path, **kw):
        return self.session.post(self.server.url(path), timeout=30, **kw)

    def patch(self, path, **kw):
        return self.session.patch(self.server.url(path), timeout=30, **kw)

    def put(self, path, **kw):
        return self.session.put(self.server.url(path), timeout=30, **kw)

    def delete(self, path, **kw):
        return self.session.delete(self.server.url(path), timeout=30, **kw)

    def status(self, text, **fields):
        r = self.post("/api/v1/statuses", json={"status": text, **fields})
        assert r.status_code == 200, r.text
        return r.json()


def create_app(server, scopes="read write follow push"):
    r = requests.post(server.url("/api/v1/apps"), data={
        "client_name": "holdfast-tests", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": scopes, "website": "https://example.invalid"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def app_token(server, app, scopes="read write follow push"):
    r = requests.post(server.url("/oauth/token"), data={
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": scopes}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def sign_up(server, username=None, scopes="read write follow push"):
    """Register through the API exactly as a Mastodon app does; returns a Client."""
    username = username or unique_name()
    app = create_app(server, scopes)
    token = app_token(server, app, scopes)
    email, password = f"{username}@example.com", f"pw-{uuid.uuid4().hex}"
    r = requests.post(server.url("/api/v1/accounts"), headers={"Authorization": f"Bearer {token}"},
                      json={"username": username, "email": email, "password": password,
                            "agreement": True, "locale": "en"}, timeout=30)
    assert r.status_code == 200, r.text
    return Client(server, r.json()["access_token"], username, password, email, app)


@pytest.fixture(scope="session")
def server():
    """One server shared by the whole session; tests use unique usernames."""
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def make_server():
    """Start extra servers with their own flags; all stopped after the test."""
    started = []

    def start(*extra_args, env=None, database=None):
        s = Server(extra_args, env, database)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def alice(server):
    return sign_up(server)


@pytest.fixture
def bob(server):
    return sign_up(server)


@pytest.fixture
def carol(server):
    return sign_up(server)
