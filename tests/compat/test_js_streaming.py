"""Client compatibility: masto.js streaming (tests/js/masto.streaming.test.js)
against a running holdfast, run with Node's test runner like test_js_clients.py."""
import os
import subprocess

from test_js_clients import JS_DIR, NODE_RUN_TIMEOUT_S, _node, _tail


def test_masto_streaming(make_server):
    node = _node()
    server = make_server()
    env = dict(os.environ, HOLDFAST_URL=server.base_url, NODE_NO_WARNINGS="1")
    # Node 22 has a global WebSocket; Node 20 needs the flag (newer Nodes ignore
    # it or know it already).
    flags = [] if int(subprocess.run([node, "-p", "process.versions.node.split('.')[0]"], capture_output=True,
                                     text=True).stdout.strip() or 0) >= 22 else ["--experimental-websocket"]
    res = subprocess.run([node, *flags, "--test", "--test-reporter=spec", "masto.streaming.test.js"], cwd=JS_DIR,
                         env=env, capture_output=True, text=True, timeout=NODE_RUN_TIMEOUT_S)
    output = res.stdout + res.stderr
    assert res.returncode == 0, (f"masto.js streaming failed (exit {res.returncode}):\n{output}\n"
                                 f"--- server log (tail) ---\n{_tail(server.log_path)}")
    assert "# pass 0" not in output and "ℹ pass 0" not in output, output
