"""Electronic delivery (SPEC 4.6): staff attach a PDF (checked by content, limited in size), the
reader is e-mailed, accepts the copyright statement once and downloads it — only they, within
the days and downloads of the delivery, each counted — and purge_deliveries removes the file."""

import io
import re
import threading
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation

from accounts.dues import due_proceed
from accounts.ledger import ledger_balance, ledger_record
from readers.models import PageSlug
from readers.staff import STAFF_GROUP
from requests_app.delivery import (
    Refusal,
    content_disposition,
    delivery_attach,
    delivery_can_download,
    delivery_claim_download,
    delivery_purge,
    pdf_problem,
)
from requests_app.models import Delivery, IllRequest, Status
from tests.factories import FeeLineFactory, IllRequestFactory, PageFactory, StaffFactory
from tests.requests_app.pdfs import make_pdf, pdf_upload
from tests.requests_app.test_concurrency import race

pytestmark = pytest.mark.django_db


def deliver_url(ill_request):
    return reverse("admin:requests_app_illrequest_deliver", args=[ill_request.pk])


def change_url(ill_request):
    return reverse("admin:requests_app_illrequest_change", args=[ill_request.pk])


def statement_url(ill_request):
    return reverse("delivery_statement", args=[ill_request.number])


def download_url(ill_request):
    return reverse("delivery_download", args=[ill_request.number])


def stored_files(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def upload(name, content, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type)


@pytest.fixture
def in_process(reader_a):
    return IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)


@pytest.fixture
def delivered(in_process, staff):
    """A delivered request with its PDF, not downloaded, statement not accepted yet."""
    delivery_attach(ill_request=in_process, upload=pdf_upload(), actor=staff)
    in_process.refresh_from_db()
    return in_process


def accepted(ill_request):
    Delivery.objects.filter(request=ill_request).update(acknowledged_at=timezone.now())
    return ill_request


# --- The file: by content, within the size limit -------------------------------------------------


class TestThePdfCheck:
    @pytest.fixture(autouse=True)
    def in_english(self):
        with translation.override("en"):
            yield

    def test_a_pdf_passes_whatever_its_name_or_declared_type(self):
        assert pdf_problem(upload("scan.jpg", make_pdf(), "image/jpeg")) is None
        assert pdf_problem(upload("no-extension", make_pdf(xref_stream=True))) is None

    @pytest.mark.parametrize(
        "content",
        [
            b"Just some text, saved as .pdf",
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
            b"<html><body>404 Not Found</body></html>",
            b"PK\x03\x04 a Word document",
            b"%PDF-x.y not a version",
        ],
    )
    def test_anything_else_named_pdf_is_refused(self, content):
        assert "not a PDF" in pdf_problem(upload("paper.pdf", content))

    def test_a_pdf_cut_off_half_way_is_refused_as_damaged(self):
        whole = make_pdf()
        assert "damaged or incomplete" in pdf_problem(upload("paper.pdf", whole[: len(whole) // 2]))

    def test_a_pdf_whose_trailer_points_nowhere_is_refused(self):
        whole = make_pdf()
        head, offset = re.search(rb"(startxref\n)([0-9]+)", whole).groups()
        for wrong in (b"12", b"999999"):
            broken = whole.replace(head + offset, head + wrong)
            assert "damaged" in pdf_problem(upload("paper.pdf", broken))

    def test_an_empty_file_is_refused(self):
        assert pdf_problem(upload("paper.pdf", b"")) == "The file is empty."

    def test_the_size_limit_comes_from_the_settings(self, settings):
        settings.DELIVERY_MAX_MB = 1
        just_under = make_pdf(padding=1024 * 1024 - 1000)
        assert pdf_problem(upload("a.pdf", just_under)) is None
        too_big = make_pdf(padding=1024 * 1024 + 10)
        assert "up to 1 MB" in pdf_problem(upload("a.pdf", too_big))


# --- Staff attach the PDF on the request's page -------------------------------------------------


class TestStaffAttach:
    def test_attaching_delivers_the_request_and_emails_the_reader_a_link(
        self,
        client_staff,
        in_process,
        delivery_folder,
        settings,
        django_capture_on_commit_callbacks,
    ):
        settings.DELIVERY_DAYS, settings.DELIVERY_MAX_DOWNLOADS = 14, 3
        page = client_staff.get(change_url(in_process), HTTP_ACCEPT_LANGUAGE="en").content
        assert b"Attach a PDF and deliver" in page
        form = client_staff.get(deliver_url(in_process), HTTP_ACCEPT_LANGUAGE="en")
        assert form.status_code == 200 and b'type="file"' in form.content
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = client_staff.post(
                deliver_url(in_process), {"file": pdf_upload(), "note": "扫描件"}
            )
        assert response.status_code == 302 and response["Location"] == change_url(in_process)
        in_process.refresh_from_db()
        assert in_process.status == Status.DELIVERED
        delivery = in_process.delivery
        assert (delivery.file_name, delivery.max_downloads, delivery.downloads) == (
            "论文全文.pdf",
            3,
            0,
        )
        days = delivery.expires_at - delivery.delivered_at
        assert timedelta(days=14) <= days < timedelta(days=14, seconds=10)
        # Stored under a random name, not the one staff's file had.
        [stored] = stored_files(delivery_folder)
        assert stored.read_bytes() == make_pdf() and "论文" not in str(stored)
        # The status e-mail, and the one with the link.
        subjects = [message.subject for message in mail.outbox]
        [ready] = [m for m in mail.outbox if "下载" in m.subject]
        assert len(subjects) == 2
        assert ready.to == [in_process.contact_email]
        link = f"{settings.SITE_URL}/requests/{in_process.number}/"
        assert link in ready.body and "3" in ready.body and "版权声明" in ready.body
        # Staff see it on the request's page.
        page = client_staff.get(change_url(in_process), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "论文全文.pdf" in page and "0 of 3" in page
        assert "Attach a PDF and deliver" not in page

    def test_the_email_is_in_the_readers_language(
        self, client_staff, in_process, django_capture_on_commit_callbacks
    ):
        in_process.reader.language = "en"
        in_process.reader.save()
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            client_staff.post(deliver_url(in_process), {"file": pdf_upload()})
        [ready] = [m for m in mail.outbox if "ready to download" in m.subject]
        assert "accept the copyright statement" in ready.body

    def test_a_file_that_is_not_a_pdf_is_refused_beside_the_field_and_nothing_changes(
        self, client_staff, in_process, delivery_folder
    ):
        response = client_staff.post(
            deliver_url(in_process),
            {"file": upload("paper.pdf", b"MZ\x90\x00 an executable"), "note": "keep me"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 200
        assert response.context["form"].errors["file"][0].startswith("This file is not a PDF")
        assert "keep me" in response.content.decode()
        in_process.refresh_from_db()
        assert in_process.status == Status.IN_PROCESS
        assert not Delivery.objects.exists() and stored_files(delivery_folder) == []

    def test_a_file_over_the_limit_is_refused(
        self, client_staff, in_process, settings, delivery_folder
    ):
        settings.DELIVERY_MAX_MB = 1
        response = client_staff.post(
            deliver_url(in_process),
            {"file": upload("big.pdf", make_pdf(padding=1024 * 1024 + 1))},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert "up to 1 MB" in response.context["form"].errors["file"][0]
        assert not Delivery.objects.exists() and stored_files(delivery_folder) == []

    def test_posting_without_a_file_says_so(self, client_staff, in_process):
        response = client_staff.post(deliver_url(in_process), {}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200 and response.context["form"].errors["file"]

    def test_a_loan_a_closed_request_or_a_second_file_cannot_be_attached(
        self, client_staff, reader_a, delivered, delivery_folder
    ):
        loan = IllRequestFactory(reader=reader_a, service_type="loan", status=Status.IN_PROCESS)
        cancelled = IllRequestFactory(reader=reader_a, status=Status.CANCELLED)
        for ill_request in (loan, cancelled, delivered):
            assert b"Attach a PDF" not in client_staff.get(change_url(ill_request)).content
            response = client_staff.post(deliver_url(ill_request), {"file": pdf_upload()})
            assert response.status_code == 302
        assert Delivery.objects.count() == 1 and len(stored_files(delivery_folder)) == 1
        loan.refresh_from_db()
        assert loan.status == Status.IN_PROCESS

    def test_a_request_already_delivered_takes_its_file_later(self, client_staff, reader_a):
        ill_request = IllRequestFactory(reader=reader_a, status=Status.DELIVERED)
        client_staff.post(deliver_url(ill_request), {"file": pdf_upload(), "note": "第二部分"})
        [entry] = ill_request.history.all()  # staff's note, no second status change
        assert (entry.from_status, entry.to_status, entry.note) == (
            "delivered",
            "delivered",
            "第二部分",
        )
        assert Delivery.objects.get().request == ill_request

    def test_short_of_balance_the_request_awaits_payment_and_the_file_waits(
        self, client_staff, client_a, in_process, staff, django_capture_on_commit_callbacks
    ):
        FeeLineFactory(request=in_process, amount=Decimal("12.00"))
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            client_staff.post(deliver_url(in_process), {"file": pdf_upload()})
        in_process.refresh_from_db()
        assert in_process.status == Status.AWAITING_PAYMENT
        # No link yet: the e-mail is the one asking for payment.
        assert [m for m in mail.outbox if "下载" in m.subject] == []
        delivery = in_process.delivery
        assert delivery_can_download(delivery, user=in_process.reader.user) == (
            Refusal.NOT_DELIVERED
        )
        page = client_a.get(in_process.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
        assert b"once the request is delivered" in page.content
        # Paid: the payment moves the request on; the reader's days start now, with the link.
        Delivery.objects.update(expires_at=timezone.now() + timedelta(days=1))
        ledger_record(
            reader=in_process.reader, kind="deposit", amount="12.00", actor=staff, method="cash"
        )
        with django_capture_on_commit_callbacks(execute=True):
            done, _message = due_proceed(
                reader=in_process.reader, request_number=in_process.number, actor=staff
            )
        assert done
        [ready] = [m for m in mail.outbox if "下载" in m.subject]
        delivery.refresh_from_db()
        assert delivery.expires_at > timezone.now() + timedelta(days=29)
        in_process.refresh_from_db()
        assert in_process.status == Status.DELIVERED
        assert ledger_balance(in_process.reader) == Decimal("0.00")
        assert delivery_can_download(delivery, user=in_process.reader.user) == (
            Refusal.NOT_ACKNOWLEDGED
        )

    def test_a_reader_cannot_reach_the_staff_page(self, client_a, in_process):
        response = client_a.post(deliver_url(in_process), {"file": pdf_upload()})
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
        assert not Delivery.objects.exists()

    def test_the_attach_page_query_count(
        self, client_staff, in_process, django_assert_max_num_queries
    ):
        client_staff.get(deliver_url(in_process))
        with django_assert_max_num_queries(5):
            assert client_staff.get(deliver_url(in_process)).status_code == 200

    def test_the_change_page_query_count_is_pinned_with_a_delivery(
        self, client_staff, delivered, django_assert_max_num_queries
    ):
        client_staff.get(change_url(delivered))
        with django_assert_max_num_queries(12):  # + the supplier choices
            response = client_staff.get(change_url(delivered))
        assert response.status_code == 200


# --- The reader downloads: the access matrix -----------------------------------------------------


class TestDownloadAccess:
    def test_the_owner_accepts_the_statement_once_and_downloads(self, client_a, delivered):
        PageFactory(
            slug=PageSlug.COPYRIGHT,
            title_zh="版权声明",
            body_zh="仅供个人学习研究使用。",
            title_en="Copyright",
            body_en="For private study only.",
        )
        detail = client_a.get(delivered.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
        assert b"Read the copyright statement and download" in detail.content
        # Without accepting, the download goes to the statement.
        response = client_a.post(download_url(delivered))
        assert response.status_code == 302 and response["Location"] == statement_url(delivered)
        page = client_a.get(statement_url(delivered), HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert "仅供个人学习研究使用。" in page.content.decode()
        refused = client_a.post(statement_url(delivered), {}, HTTP_ACCEPT_LANGUAGE="en")
        assert refused.status_code == 400 and b"Tick the box" in refused.content
        assert Delivery.objects.get().downloads == 0

        response = client_a.post(statement_url(delivered), {"accept": "on"})
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == make_pdf()
        delivery = Delivery.objects.get()
        assert delivery.downloads == 1 and delivery.acknowledged_at is not None
        # Accepted once: the next download is straight from the button.
        detail = client_a.get(delivered.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
        assert b"Read the copyright statement" not in detail.content
        assert b"1 of 5" in detail.content and b"4 downloads left" in detail.content
        again = client_a.post(download_url(delivered))
        assert b"".join(again.streaming_content) == make_pdf()
        assert Delivery.objects.get().downloads == 2

    def test_the_download_headers(self, client_a, delivered):
        accepted(delivered)
        response = client_a.post(download_url(delivered))
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Length"] == str(len(make_pdf()))
        assert response["Content-Disposition"] == (
            f'attachment; filename="ILL-{delivered.number}.pdf"; '
            f"filename*=UTF-8''{quote('论文全文.pdf')}"
        )
        assert "no-store" in response["Cache-Control"].split(", ")
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_an_ascii_name_is_its_own_fallback_and_odd_characters_are_escaped(self):
        assert content_disposition("paper 1.pdf", "ILL-1.pdf") == (
            "attachment; filename=\"paper 1.pdf\"; filename*=UTF-8''paper%201.pdf"
        )
        assert content_disposition('a";b.pdf', "ILL-1.pdf") == (
            "attachment; filename=\"ILL-1.pdf\"; filename*=UTF-8''a%22%3Bb.pdf"
        )

    def test_a_name_with_a_path_or_quotes_is_cleaned(self, reader_a, staff):
        ill_request = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
        delivery = delivery_attach(
            ill_request=ill_request, upload=pdf_upload(name='第1章 "引言"\u202e.PDF'), actor=staff
        )
        assert delivery.file_name == "第1章 _引言_.pdf"

    @pytest.mark.parametrize("url", [statement_url, download_url])
    def test_another_reader_gets_404(self, client_b, delivered, url):
        accepted(delivered)
        assert client_b.get(url(delivered)).status_code == 404
        assert client_b.post(url(delivered), {"accept": "on"}).status_code == 404
        assert Delivery.objects.get().downloads == 0

    @pytest.mark.parametrize("url", [statement_url, download_url])
    def test_staff_cannot_download_from_the_portal(self, client_staff, delivered, url):
        accepted(delivered)
        assert client_staff.post(url(delivered), {"accept": "on"}).status_code == 403
        assert Delivery.objects.get().downloads == 0

    @pytest.mark.parametrize("url", [statement_url, download_url])
    def test_anonymous_is_sent_to_log_in(self, client_anon, delivered, url):
        accepted(delivered)
        response = client_anon.post(url(delivered), {"accept": "on"})
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert Delivery.objects.get().downloads == 0

    def test_a_pending_reader_is_refused(self, client_pending, pending_reader, staff):
        ill_request = IllRequestFactory(reader=pending_reader, status=Status.IN_PROCESS)
        delivery_attach(ill_request=ill_request, upload=pdf_upload(), actor=staff)
        accepted(ill_request)
        assert client_pending.post(download_url(ill_request)).status_code == 403

    def test_a_request_without_a_file_has_no_download(self, client_a, in_process):
        assert client_a.post(download_url(in_process)).status_code == 404
        assert client_a.get(statement_url(in_process)).status_code == 404

    def test_a_get_of_the_download_only_shows_the_request(self, client_a, delivered):
        accepted(delivered)
        response = client_a.get(download_url(delivered))
        assert response.status_code == 302
        assert response["Location"] == delivered.get_absolute_url()
        assert Delivery.objects.get().downloads == 0

    def test_after_the_days_the_download_is_refused_and_the_page_says_so(self, client_a, delivered):
        accepted(delivered)
        expires_at = Delivery.objects.get().expires_at
        with time_machine.travel(expires_at + timedelta(seconds=1), tick=False):
            client_a.force_login(delivered.reader.user)  # the old session has ended by now
            response = client_a.post(download_url(delivered), HTTP_ACCEPT_LANGUAGE="en")
            assert response.status_code == 302
            assert response["Location"] == delivered.get_absolute_url()
            page = client_a.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content
            assert b"The download period of this document has ended." in page
            assert b"The download period ended on" in page
            assert client_a.get(statement_url(delivered)).status_code == 302
        assert Delivery.objects.get().downloads == 0

    def test_after_the_last_download_the_next_is_refused(self, client_a, delivered, settings):
        accepted(delivered)
        for _ in range(5):
            response = client_a.post(download_url(delivered))
            assert response.status_code == 200
            assert b"".join(response.streaming_content) == make_pdf()
        refused = client_a.post(download_url(delivered), HTTP_ACCEPT_LANGUAGE="en")
        assert refused.status_code == 302
        page = client_a.get(delivered.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content
        assert b"Every download of this document has been used" in page and b"5 of 5" in page
        assert Delivery.objects.get().downloads == 5

    def test_the_access_rule_is_one_function(self, delivered, reader_b, staff):
        delivery = Delivery.objects.get()
        owner = delivered.reader.user
        assert delivery_can_download(delivery, user=owner) == Refusal.NOT_ACKNOWLEDGED
        for other in (reader_b.user, staff, None):
            assert delivery_can_download(delivery, user=other) == Refusal.NOT_YOURS
        accepted(delivered)
        delivery.refresh_from_db()
        assert delivery_can_download(delivery, user=owner) is None
        later = delivery.expires_at + timedelta(seconds=1)
        assert delivery_can_download(delivery, user=owner, now=later) == Refusal.EXPIRED
        assert delivery_claim_download(delivery, user=reader_b.user) == Refusal.NOT_YOURS
        assert Delivery.objects.get().downloads == 0

    def test_a_file_missing_from_the_storage_is_a_message_not_a_500(
        self, client_a, delivered, delivery_folder
    ):
        accepted(delivered)
        for path in stored_files(delivery_folder):
            path.unlink()
        response = client_a.post(download_url(delivered))
        assert response.status_code == 302
        assert Delivery.objects.get().downloads == 0

    @pytest.mark.parametrize("with_delivery", [False, True])
    def test_the_request_page_query_count_is_the_same_with_a_delivery(
        self, client_a, reader_a, staff, with_delivery, django_assert_max_num_queries
    ):
        ill_request = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
        if with_delivery:
            delivery_attach(ill_request=ill_request, upload=pdf_upload(), actor=staff)
        client_a.get(ill_request.get_absolute_url())
        with django_assert_max_num_queries(7):
            response = client_a.get(ill_request.get_absolute_url())
        assert response.status_code == 200
        assert (b"delivery-heading" in response.content) is with_delivery

    def test_the_statement_page_query_count(
        self, client_a, delivered, django_assert_max_num_queries
    ):
        client_a.get(statement_url(delivered))
        with django_assert_max_num_queries(6):
            assert client_a.get(statement_url(delivered)).status_code == 200


# --- Counting when two downloads run at once (PostgreSQL) ----------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises all writes, so it cannot show a race; run with DATABASE_URL "
    "pointing at PostgreSQL",
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_downloads_never_pass_the_limit(reader_a, staff, settings):
    settings.DELIVERY_MAX_DOWNLOADS = 2
    ill_request = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
    delivery_attach(ill_request=ill_request, upload=pdf_upload(), actor=staff)
    accepted(ill_request)
    user = reader_a.user

    def claim():
        delivery = Delivery.objects.select_related("request__reader").get()
        return delivery_claim_download(delivery, user=user)

    results = race(*[claim for _ in range(6)])
    assert results.count(None) == 2
    assert [r for r in results if r is not None] == [Refusal.USED_UP] * 4
    assert Delivery.objects.get().downloads == 2


# --- purge_deliveries ---------------------------------------------------------------------------


def _three_deliveries(reader, staff):
    made = []
    for _ in range(3):
        ill_request = IllRequestFactory(reader=reader, status=Status.IN_PROCESS)
        made.append(delivery_attach(ill_request=ill_request, upload=pdf_upload(), actor=staff))
    expired, used_up, active = made
    Delivery.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    Delivery.objects.filter(pk=used_up.pk).update(downloads=F("max_downloads"))
    return expired, used_up, active


def test_purge_removes_expired_and_used_up_files_and_is_safe_to_rerun(
    reader_a, staff, delivery_folder, client_a
):
    expired, used_up, active = _three_deliveries(reader_a, staff)
    assert len(stored_files(delivery_folder)) == 3
    out = io.StringIO()
    call_command("purge_deliveries", stdout=out)
    assert out.getvalue().strip() == "Removed 2 delivered file(s)."
    kept = stored_files(delivery_folder)
    assert [p.relative_to(delivery_folder).as_posix() for p in kept] == [active.stored_name]
    removed = Delivery.objects.filter(purged_at__isnull=False)
    assert sorted(removed.values_list("pk", flat=True)) == sorted([expired.pk, used_up.pk])
    first_run = dict(removed.values_list("pk", "purged_at"))

    out = io.StringIO()
    call_command("purge_deliveries", stdout=out)
    assert out.getvalue().strip() == "No delivered file was due for removal."
    assert dict(removed.values_list("pk", "purged_at")) == first_run
    assert stored_files(delivery_folder) == kept

    # The reader's page says the file was removed, and offers no download.
    page = client_a.get(expired.request.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content
    assert b"The file was removed on" in page and b"Download the PDF" not in page
    accepted(expired.request)
    response = client_a.post(download_url(expired.request), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302


def test_purge_completes_a_run_that_failed_half_way(reader_a, staff, delivery_folder):
    expired, _used_up, _active = _three_deliveries(reader_a, staff)
    # The file went, but the run stopped before it marked the row.
    (delivery_folder / expired.stored_name).unlink()
    assert delivery_purge() == 2
    assert Delivery.objects.filter(purged_at__isnull=False).count() == 2


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_purges_at_once_skip_each_others_rows(reader_a, staff, delivery_folder):
    expired, used_up, _active = _three_deliveries(reader_a, staff)
    locked = threading.Event()
    release = threading.Event()

    def other_machine():
        try:
            with transaction.atomic():
                list(Delivery.objects.select_for_update().filter(pk=expired.pk))
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_machine)
    thread.start()
    assert locked.wait(10)
    # The row the other run holds is skipped, not waited for.
    assert delivery_purge() == 1
    assert Delivery.objects.get(pk=used_up.pk).purged_at is not None
    assert Delivery.objects.get(pk=expired.pk).purged_at is None
    release.set()
    thread.join()
    assert delivery_purge() == 1
    assert delivery_purge() == 0
    assert len(stored_files(delivery_folder)) == 1


def test_a_cancelled_copy_never_delivered_still_has_its_file_removed_in_time(
    reader_a, staff, delivery_folder
):
    ill_request = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
    FeeLineFactory(request=ill_request, amount=Decimal("5.00"))
    delivery = delivery_attach(ill_request=ill_request, upload=pdf_upload(), actor=staff)
    assert IllRequest.objects.get().status == Status.AWAITING_PAYMENT
    assert delivery_purge(now=delivery.expires_at) == 1
    assert stored_files(delivery_folder) == []


def test_staff_of_the_ill_office_group_may_attach(client, reader_a):
    member = StaffFactory(username="office-member", is_superuser=False)
    member.groups.add(Group.objects.get(name=STAFF_GROUP))
    client.force_login(member)
    ill_request = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
    assert client.post(deliver_url(ill_request), {"file": pdf_upload()}).status_code == 302
    assert Delivery.objects.get().delivered_by == member
