"""``make demo ARGS=--console``: three consoles on loopback with demo users; Ctrl-C stops."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

DEMO = Path(__file__).resolve().parents[3] / "examples" / "http_demo.py"


def test_the_console_demo_prints_working_urls_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, str(DEMO), "--console", "--keep", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert child.stdout is not None
        urls: list[tuple[str, str]] = []
        deadline = time.monotonic() + 90
        while len(urls) < 3 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            found = re.search(r"(http://127\.0\.0\.1:\d+/)\s+log in as (\w+)", line)
            if found:
                urls.append((found.group(1), found.group(2)))
        assert [user for _, user in urls] == ["abby", "bert", "cleo"]
        for url, user in urls:
            with httpx.Client(base_url=url, timeout=10) as client:
                page = client.get("/login")
                token = re.search(r'name="csrf" value="([^"]+)"', page.text)
                assert token
                home = client.post(
                    "/login",
                    data={"csrf": token.group(1), "username": user, "password": "demo-password"},
                    follow_redirects=True,
                )
                assert home.status_code == 200
                assert "<h1>Home</h1>" in home.text
        child.send_signal(signal.SIGINT)
        assert child.wait(30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
