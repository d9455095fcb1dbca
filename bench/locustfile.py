"""The load test's journeys (locust; run through bench/load.py, `make load`).

Confirmed readers browse the board, their list and a request, submit requests and cancel one;
staff move submitted requests on in the admin at the same time. Every answer of 500 or more is
a failure. Each submission the server confirmed (302 to the request's page) is written, one
title a line, to LOAD_SUBMISSIONS, so that bench/load.py can check the database stored each
exactly once.

Environment (set by bench/load.py): LOAD_READERS (how many readers load0… exist),
LOAD_PASSWORD, LOAD_STAFF (the staff username), LOAD_SUBMISSIONS (the file).
"""

import itertools
import os
import random
import re
import threading
import uuid

from locust import HttpUser, between, task

READERS = int(os.environ.get("LOAD_READERS", "50"))
PASSWORD = os.environ.get("LOAD_PASSWORD", "load-test-password-1")
STAFF = os.environ.get("LOAD_STAFF", "load-staff")
SUBMISSIONS = os.environ.get("LOAD_SUBMISSIONS", "load-submissions.txt")

_next_reader = itertools.count()
_write_lock = threading.Lock()


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    return match.group(1) if match else ""


class GatewayUser(HttpUser):
    abstract = True
    wait_time = between(1, 3)

    def page(self, method, url, name, **kwargs):
        """A request whose 5xx answers are failures (4xx and redirects are the page's own)."""
        with self.client.request(
            method, url, name=name, catch_response=True, allow_redirects=False, **kwargs
        ) as response:
            if response.status_code >= 500 or response.status_code == 0:
                response.failure(f"{response.status_code} on {name}")
            else:
                response.success()
            return response

    def log_in(self, username):
        form = self.page("GET", "/accounts/login/", "/accounts/login/")
        response = self.page(
            "POST",
            "/accounts/login/",
            "/accounts/login/ [log in]",
            data={
                "csrfmiddlewaretoken": _hidden(form.text, "csrfmiddlewaretoken"),
                "login": username,
                "password": PASSWORD,
            },
        )
        if response.status_code != 302:
            response.failure(f"{username} could not log in")


class Reader(GatewayUser):
    weight = 24

    def on_start(self):
        self.username = f"load{next(_next_reader) % READERS}"
        self.numbers = []
        self.log_in(self.username)

    @task(3)
    def board(self):
        self.page("GET", "/", "/ (board)")

    @task(3)
    def request_list(self):
        response = self.page("GET", "/requests/", "/requests/ (list)")
        found = re.findall(r'href="/requests/(\d+)/"', response.text or "")
        if found:
            self.numbers = sorted(set(found))

    @task(3)
    def open_request(self):
        if self.numbers:
            number = random.choice(self.numbers)  # noqa: S311 (not for security)
            self.page("GET", f"/requests/{number}/", "/requests/[number]/")

    @task(1)
    def submit(self):
        form = self.page("GET", "/requests/new/", "/requests/new/ (form)")
        title = f"Load test article {uuid.uuid4().hex}"
        response = self.page(
            "POST",
            "/requests/new/",
            "/requests/new/ [submit]",
            data={
                "csrfmiddlewaretoken": _hidden(form.text, "csrfmiddlewaretoken"),
                "token": _hidden(form.text, "token"),
                "service_type": "copy",
                "document_type": "journal_article",
                "publication_title": "Interlending & Document Supply",
                "volume_issue": "32(2)",
                "article_title": title,
                "year": "2004",
                "pages": "94-101",
                "language": "English",
                "delivery_method": "email",
                "contact_method": "email",
                "max_cost": "0",
                "urgency": "normal",
                "contact_name": "Load Reader",
                "contact_postal_code": "100084",
                "contact_email": f"{self.username}@example.org",
                "contact_phone": "010-62780000",
                "confirm_duplicate": "1",
            },
        )
        location = response.headers.get("Location", "")
        match = re.search(r"/requests/(\d+)/$", location)
        if response.status_code == 302 and match:
            self.numbers.append(match.group(1))
            with _write_lock, open(SUBMISSIONS, "a", encoding="utf-8") as out:
                out.write(title + "\n")
        elif response.status_code < 500:
            response.failure(f"submission not accepted: {response.status_code}")

    @task(1)
    def cancel(self):
        if not self.numbers:
            return
        number = self.numbers.pop(random.randrange(len(self.numbers)))  # noqa: S311
        page = self.page("GET", f"/requests/{number}/cancel/", "/requests/[number]/cancel/")
        if page.status_code == 200:
            self.page(
                "POST",
                f"/requests/{number}/cancel/",
                "/requests/[number]/cancel/ [cancel]",
                data={"csrfmiddlewaretoken": _hidden(page.text, "csrfmiddlewaretoken")},
            )


class Staff(GatewayUser):
    """Staff moving submitted requests on (to in process) in the admin."""

    fixed_count = 2
    wait_time = between(2, 5)

    def on_start(self):
        self.log_in(STAFF)

    @task
    def move_a_request(self):
        listing = self.page(
            "GET",
            "/admin/requests_app/illrequest/?status__exact=submitted",
            "/admin/requests_app/illrequest/ (submitted)",
        )
        ids = re.findall(r'href="/admin/requests_app/illrequest/(\d+)/change/', listing.text or "")
        if not ids:
            return
        pk = random.choice(ids)  # noqa: S311
        self.page(
            "GET",
            f"/admin/requests_app/illrequest/{pk}/change/",
            "/admin/requests_app/illrequest/[pk]/change/",
        )
        url = f"/admin/requests_app/illrequest/{pk}/transition/"
        form = self.page("GET", f"{url}?to=in_process", "/admin/…/[pk]/transition/")
        if form.status_code == 200:
            self.page(
                "POST",
                url,
                "/admin/…/[pk]/transition/ [move]",
                data={
                    "csrfmiddlewaretoken": _hidden(form.text, "csrfmiddlewaretoken"),
                    "to": "in_process",
                    "note": "",
                    "visible": "on",
                },
            )
