"""Client compatibility: the real masto.js and megalodon (from npm) against a running holdfast.

Each scenario is a Node test file under tests/js, run with Node's own test
runner (`node --test`) against a server this harness starts (SQLite, or
PostgreSQL with HOLDFAST_TEST_BACKEND=postgres). The pytest test fails when
node's run fails, and shows node's output and the server's log.

scripts/test installs Node.js and `npm ci`s tests/js; run by hand with
`cd tests/js && npm ci` first.
"""
import os
import shutil
import subprocess

import pytest

from conftest import REPO

JS_DIR = os.path.join(REPO, "tests", "js")
NODE_RUN_TIMEOUT_S = 180
LOG_TAIL_CHARS = 4000


def _node():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (scripts/test installs Debian's nodejs)")
    if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "masto")):
        pytest.fail("tests/js/node_modules is missing: run `npm ci` in tests/js (scripts/test does)")
    return node


def _tail(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()[-LOG_TAIL_CHARS:]
    except OSError as e:
        return f"(no log: {e})"


@pytest.mark.parametrize("script", ["masto.test.js", "megalodon.test.js"])
def test_js_client(make_server, script):
    node = _node()
    server = make_server()
    env = dict(os.environ, HOLDFAST_URL=server.base_url, NODE_NO_WARNINGS="1")
    res = subprocess.run([node, "--test", "--test-reporter=spec", script], cwd=JS_DIR, env=env,
                         capture_output=True, text=True, timeout=NODE_RUN_TIMEOUT_S)
    output = res.stdout + res.stderr
    assert res.returncode == 0, (f"node --test {script} failed (exit {res.returncode}):\n{output}\n"
                                 f"--- server log (tail) ---\n{_tail(server.log_path)}")
    # A run that executed nothing is not a pass.
    assert "# pass 0" not in output and "ℹ pass 0" not in output, output
