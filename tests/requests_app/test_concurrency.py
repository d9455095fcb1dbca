"""Two people acting on one request at once leave one consistent history (PostgreSQL only)."""

import contextlib
import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from readers.models import Reader
from requests_app import lifecycle
from requests_app.lifecycle import TransitionError, request_transition
from requests_app.models import IllRequest, Status, StatusChange
from requests_app.services import request_cancel, request_expire_due, request_submit
from tests.factories import IllRequestFactory, ReaderFactory, StaffFactory
from tests.requests_app.conftest import worked_example

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writes, so it cannot show a race; run with DATABASE_URL "
        "pointing at PostgreSQL",
    ),
]


def race(*actions):
    """Run the actions at the same moment in threads; return what each returned or raised."""
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait()
            results[index] = action()
        except Exception as exc:  # noqa: BLE001 - the result is what we look at
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_cancels_give_one_cancel_one_refusal_and_one_change():
    ill_request = IllRequestFactory()
    user = ill_request.reader.user
    results = race(
        lambda: request_cancel(ill_request=ill_request, actor=user),
        lambda: request_cancel(ill_request=ill_request, actor=user),
    )
    assert sum(isinstance(r, TransitionError) for r in results) == 1
    assert sum(isinstance(r, IllRequest) for r in results) == 1
    assert StatusChange.objects.filter(request=ill_request).count() == 1
    ill_request.refresh_from_db()
    assert ill_request.status == Status.CANCELLED


def test_a_cancel_racing_a_staff_transition_leaves_one_consistent_history():
    ill_request = IllRequestFactory()
    staff = StaffFactory()
    results = race(
        lambda: request_cancel(ill_request=ill_request, actor=ill_request.reader.user),
        lambda: request_transition(ill_request=ill_request, to="awaiting_payment", actor=staff),
    )
    ill_request.refresh_from_db()
    history = list(StatusChange.objects.filter(request=ill_request).order_by("at", "pk"))
    # Either order is fine, as long as the history chains and ends in the stored status.
    assert history[0].from_status == "submitted"
    for before, after in zip(history, history[1:], strict=False):
        assert after.from_status == before.to_status
    assert history[-1].to_status == ill_request.status
    assert len(history) == sum(isinstance(r, IllRequest) for r in results)


def test_two_submissions_of_one_form_make_one_request():
    reader = ReaderFactory()
    data = worked_example(max_cost=Decimal("0"))
    results = race(
        lambda: request_submit(reader=reader, data=data, token="same-token-0000000001"),
        lambda: request_submit(reader=reader, data=data, token="same-token-0000000001"),
    )
    assert IllRequest.objects.count() == 1
    assert sorted(created for _, created in results) == [False, True]


def test_concurrent_submissions_get_distinct_consecutive_numbers():
    reader = ReaderFactory()
    IllRequestFactory(number=5000)
    data = worked_example(max_cost=Decimal("0"))
    race(
        *[
            (lambda i=i: request_submit(reader=reader, data=data, token=f"token-{i:020d}"))
            for i in range(6)
        ]
    )
    numbers = sorted(IllRequest.objects.exclude(number=5000).values_list("number", flat=True))
    assert numbers == list(range(5001, 5007))


def test_two_expiry_runs_at_once_expire_each_request_once():
    import datetime

    today = datetime.date(2030, 1, 10)
    for _ in range(5):
        IllRequestFactory(valid_until=datetime.date(2030, 1, 1))
    results = race(lambda: request_expire_due(today=today), lambda: request_expire_due(today=today))
    assert sorted(results[0] + results[1]) == sorted(
        IllRequest.objects.values_list("number", flat=True)
    )
    assert StatusChange.objects.count() == 5


@contextlib.contextmanager
def held_in_another_transaction(hold):
    """Run `hold` in a transaction of its own, in a thread, and keep it open meanwhile."""
    holding, release = threading.Event(), threading.Event()

    def run():
        try:
            with transaction.atomic():
                hold()
                holding.set()
                release.wait(10)
        finally:
            holding.set()
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    holding.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join()


def test_the_expiry_job_does_not_skip_a_request_while_staff_change_another_of_its_reader(
    monkeypatch,
):
    reader = ReaderFactory()
    busy = IllRequestFactory(reader=reader)
    due = IllRequestFactory(reader=reader, valid_until=datetime.date(2030, 1, 1))
    staff = StaffFactory()
    in_the_middle, done = threading.Event(), threading.Event()
    tell_reader = lifecycle.request_tell_reader

    def slow_tell_reader(ill_request, *, change):
        # Staff's change of `busy` stops here, its locks held, until the expiry job has run.
        if ill_request.pk == busy.pk:
            in_the_middle.set()
            done.wait(10)
        tell_reader(ill_request, change=change)

    monkeypatch.setattr(lifecycle, "request_tell_reader", slow_tell_reader)

    def staff_change():
        try:
            request_transition(ill_request=busy, to="in_process", actor=staff)
        finally:
            in_the_middle.set()
            connections.close_all()

    thread = threading.Thread(target=staff_change)
    thread.start()
    in_the_middle.wait(10)
    try:
        expired = request_expire_due(today=datetime.date(2030, 1, 10))
    finally:
        done.set()
        thread.join()
    assert expired == [due.number]
    due.refresh_from_db()
    busy.refresh_from_db()
    assert (due.status, busy.status) == ("expired", "in_process")


def test_a_status_change_does_not_wait_for_whoever_holds_the_reader():
    ill_request = IllRequestFactory()
    staff = StaffFactory()

    def hold_reader():
        # As confirming the reader does, say.
        Reader.objects.select_for_update().get(pk=ill_request.reader_id)

    with held_in_another_transaction(hold_reader), transaction.atomic():
        with connection.cursor() as cursor:
            # Waiting would mean the reader's row is locked too; fail fast instead of hanging.
            cursor.execute("SET LOCAL lock_timeout = '2s'")
        request_transition(ill_request=ill_request, to="in_process", actor=staff)
    ill_request.refresh_from_db()
    assert ill_request.status == "in_process"
