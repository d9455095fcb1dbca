"""The development OpenID Connect provider (tools/dev_idp: allauth's provider in its own small
Django project) run for real by the tests: a subprocess on a free loopback port, with its own
SQLite database in a temporary directory. The gateway under test talks to it over HTTP exactly
as it talks to a campus IdP."""

import html
import os
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"^Listening on (http://\S+)$", re.MULTILINE)
STARTUP_SECONDS = 60


class DevOIDCProvider:
    """`python -m tools.dev_idp` on port 0; `issuer` once started. Its log (every request line
    as the client sent it) is kept in `log_path`."""

    def __init__(
        self,
        directory: Path,
        *,
        client_id: str,
        secret: str,
        redirect_uris: list[str],
        token_auth_methods: tuple[str, ...] = (),
    ):
        self.directory = Path(directory)
        self.log_path = self.directory / "dev_idp.log"
        self.args = [
            sys.executable,
            "-m",
            "tools.dev_idp",
            "--port",
            "0",
            "--exit-with-stdin",
            "--db",
            str(self.directory / "dev_idp.sqlite3"),
            "--client-id",
            client_id,
            "--client-secret",
            secret,
            *[arg for uri in redirect_uris for arg in ("--redirect-uri", uri)],
            *[arg for method in token_auth_methods for arg in ("--token-auth-method", method)],
        ]
        self.process: subprocess.Popen | None = None
        self.issuer = ""
        self.discovery: dict = {}

    def start(self) -> "DevOIDCProvider":
        self.directory.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env["PYTHONUNBUFFERED"] = "1"
        with open(self.log_path, "wb") as log:
            # Its standard input is a pipe from this process: should the test run die without
            # stopping it, the pipe closes and the IdP ends too.
            self.process = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while not (match := LISTENING.search(self.log())):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the development IdP did not start:\n{self.log()}")
            time.sleep(0.05)
        self.issuer = match.group(1)
        self.discovery = requests.get(
            self.url("/.well-known/openid-configuration"), timeout=10
        ).json()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.stdin.close()
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def url(self, path: str) -> str:
        return self.issuer + path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request_lines(self) -> list[str]:
        """Every request line the IdP received, as sent (`GET /path HTTP/1.1`)."""
        return re.findall(r'"((?:GET|POST) \S+ HTTP/1\.[01])"', self.log())


def _hidden_inputs(page: str) -> dict[str, str]:
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    }


def sign_in_page(browser: requests.Session, authorize_url: str) -> requests.Response | None:
    """The browser follows the authorization request at the IdP. Returns the IdP's sign-in page,
    or None where the IdP signs the browser straight in (it has a session there)."""
    answer = browser.get(authorize_url, allow_redirects=False)
    origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(authorize_url))
    while answer.status_code == 302 and answer.headers["Location"].startswith(("/", origin)):
        answer = browser.get(
            urllib.parse.urljoin(answer.url, answer.headers["Location"]), allow_redirects=False
        )
    if answer.status_code == 302:
        return None
    assert answer.status_code == 200, answer.text[:2000]
    assert "Choose a campus identity" in answer.text
    return answer


def choose_identity(browser: requests.Session, page: requests.Response, sub: str) -> str:
    """The person presses "Sign in as …" on the sign-in page; returns where the IdP sends the
    browser back to (the gateway's callback, with the code)."""
    answer = browser.post(
        page.url.split("?")[0],
        data={**_hidden_inputs(page.text), "identity": sub},
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:2000]
    # Back to the authorization request, which now answers with the code.
    answer = browser.get(
        urllib.parse.urljoin(page.url, answer.headers["Location"]), allow_redirects=False
    )
    assert answer.status_code == 302, answer.text[:2000]
    return answer.headers["Location"]
