"""The load test's journeys and their baseline (locust; run through bench/load.py, `make load`).

Confirmed readers of the benchmark's data set browse the board, their list and a request,
submit requests and cancel ones they submitted; staff move submitted requests on in the admin
at the same time. Every answer of 500 or more, and every step that did not do what it should,
is a failure. Each submission's article title carries the run's prefix and a marker of its own:
written to LOAD_ATTEMPTED before it is sent and to LOAD_CONFIRMED once the server confirmed it
(302 to the request's page), so that bench/load.py can check the database stored each exactly
once.

The baseline (BareReader, BareStaff: run by bench/load.py right before the journeys, with as
many users for as long) is the same people at the same pace — the same sessions, the same
waits between steps — each step one request for `make bench`'s bare view (bench/views.py:
session authentication, one indexed query, 20 rows), which must answer 200.

Environment (set by bench/load.py): LOAD_SESSIONS (a JSON file: the session cookie's name, one
session and e-mail address per reader, the staff's session), LOAD_STAFF_USERS (how many of the
users are staff), LOAD_PREFIX, LOAD_ATTEMPTED, LOAD_CONFIRMED (files).
"""

import itertools
import json
import os
import random
import re
import threading
import uuid

from locust import HttpUser, between, task

with open(os.environ.get("LOAD_SESSIONS", "sessions.json"), encoding="utf-8") as _file:
    SESSIONS = json.load(_file)
STAFF_USERS = int(os.environ.get("LOAD_STAFF_USERS", "2"))
PREFIX = os.environ.get("LOAD_PREFIX", "Load test ")
ATTEMPTED = os.environ.get("LOAD_ATTEMPTED", "load-attempted.txt")
CONFIRMED = os.environ.get("LOAD_CONFIRMED", "load-confirmed.txt")

_next_reader = itertools.count()
_write_lock = threading.Lock()


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    return match.group(1) if match else ""


def _note(path: str, line: str) -> None:
    with _write_lock, open(path, "a", encoding="utf-8") as out:
        out.write(line + "\n")


def _new_request_number(response) -> str:
    """The new request's number when the server confirmed a submission (302 to its page)."""
    match = re.search(r"/requests/(\d+)/$", response.headers.get("Location", ""))
    return match.group(1) if response.status_code == 302 and match else ""


def _not_a_new_request(response):
    if not _new_request_number(response):
        return f"submission not accepted: {response.status_code}"
    return None


class GatewayUser(HttpUser):
    abstract = True
    wait_time = between(1, 3)

    def page(self, method, url, name, refusal=None, **kwargs):
        """A request whose 5xx answers are failures (4xx and redirects are the page's own), and
        so is any answer `refusal(response)` names a reason for. Both are decided inside the
        with-block: locust records the outcome when it closes, and ignores a later failure()."""
        with self.client.request(
            method, url, name=name, catch_response=True, allow_redirects=False, **kwargs
        ) as response:
            reason = None
            if response.status_code >= 500 or response.status_code == 0:
                reason = f"{response.status_code} on {name}"
            elif refusal:
                reason = refusal(response)
            if reason:
                response.failure(reason)
            else:
                response.success()
            return response

    def sign_in(self, session):
        self.client.cookies.set(SESSIONS["cookie_name"], session)


class Reader(GatewayUser):
    weight = 1

    def on_start(self):
        reader = SESSIONS["readers"][next(_next_reader) % len(SESSIONS["readers"])]
        self.email = reader["email"]
        self.numbers = []  # on the reader's list (any status)
        self.mine = []  # submitted in this run: the ones to cancel
        self.sign_in(reader["session"])
        # Each reader arrives with a request to make: the board, their list, then the form (so
        # that even a short run shows every reader page and submits); after that, the tasks
        # below at random.
        self.board()
        self.request_list()
        self.submit()

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
        title = f"{PREFIX}{uuid.uuid4().hex}"
        _note(ATTEMPTED, title)
        response = self.page(
            "POST",
            "/requests/new/",
            "/requests/new/ [submit]",
            refusal=_not_a_new_request,
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
                "contact_email": self.email,
                "contact_phone": "010-62780000",
                "confirm_duplicate": "1",
            },
        )
        number = _new_request_number(response)
        if number:
            self.mine.append(number)
            _note(CONFIRMED, title)

    @task(1)
    def cancel(self):
        if not self.mine:
            return
        number = self.mine.pop(random.randrange(len(self.mine)))  # noqa: S311
        page = self.page("GET", f"/requests/{number}/cancel/", "/requests/[number]/cancel/")
        # Staff may have moved it on meanwhile: then there is nothing to cancel here.
        if page.status_code == 200 and "csrfmiddlewaretoken" in page.text:
            self.page(
                "POST",
                f"/requests/{number}/cancel/",
                "/requests/[number]/cancel/ [cancel]",
                data={"csrfmiddlewaretoken": _hidden(page.text, "csrfmiddlewaretoken")},
            )


class Staff(GatewayUser):
    """Staff moving submitted requests on (to in process) in the admin."""

    fixed_count = STAFF_USERS
    wait_time = between(2, 5)

    def on_start(self):
        self.sign_in(SESSIONS["staff"])

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


BARE_URL = "/bench/bare/"
BARE_NAME = "/bench/bare/ (baseline)"


def _not_the_bare_view(response):
    """Anything but a 200 (a redirect to the login page, say) costs less than the bare view
    and would make the baseline look faster than it is."""
    return None if response.status_code == 200 else f"{response.status_code} on {BARE_NAME}"


class BareUser(GatewayUser):
    abstract = True

    @task
    def bare(self):
        self.page("GET", BARE_URL, BARE_NAME, refusal=_not_the_bare_view)


class BareReader(BareUser):
    """The baseline's reader: a journey reader's session and pace (Reader)."""

    weight = Reader.weight
    wait_time = Reader.wait_time

    def on_start(self):
        self.sign_in(SESSIONS["readers"][next(_next_reader) % len(SESSIONS["readers"])]["session"])


class BareStaff(BareUser):
    """The baseline's member of staff: the staff's session and pace (Staff)."""

    fixed_count = Staff.fixed_count
    wait_time = Staff.wait_time

    def on_start(self):
        self.sign_in(SESSIONS["staff"])
