from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from readers.models import Notice
from tests.factories import NoticeFactory

pytestmark = pytest.mark.django_db


def titles(response):
    """The board's titles: the reader's own notices (apart, issue 14), then the office's."""
    personal = response.context.get("personal_notices") or []
    return [n.title_en for n in personal] + [n.title_en for n in response.context["page_obj"]]


def test_anonymous_visitor_sees_public_notices_on_the_landing_page(client_anon):
    NoticeFactory(title_en="Opening hours")
    response = client_anon.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "readers/landing.html" in [t.name for t in response.templates]
    assert "Opening hours" in response.content.decode()
    assert "Off-campus login" in response.content.decode()


def test_board_lists_pinned_first_then_newest(client_a):
    now = timezone.now()
    NoticeFactory(title_en="old", publish_at=now - timedelta(days=9))
    NoticeFactory(title_en="new", publish_at=now - timedelta(days=1))
    NoticeFactory(title_en="pinned old", publish_at=now - timedelta(days=30), pinned=True)
    response = client_a.get("/")
    assert titles(response) == ["pinned old", "new", "old"]


def test_unpublished_and_ended_notices_are_hidden(client_a):
    now = timezone.now()
    NoticeFactory(title_en="future", publish_at=now + timedelta(days=1))
    NoticeFactory(
        title_en="ended", publish_at=now - timedelta(days=5), end_at=now - timedelta(days=1)
    )
    NoticeFactory(
        title_en="current", publish_at=now - timedelta(days=5), end_at=now + timedelta(days=1)
    )
    assert titles(client_a.get("/")) == ["current"]


def test_board_pages_by_twenty(client_a):
    now = timezone.now()
    for i in range(45):
        NoticeFactory(title_en=f"n{i:02d}", publish_at=now - timedelta(minutes=i))
    first = client_a.get("/")
    assert len(titles(first)) == 20
    assert titles(first)[0] == "n00"
    last = client_a.get("/?page=3")
    assert titles(last) == [f"n{i:02d}" for i in range(40, 45)]
    # Junk page numbers never fail the page: they fall back to a valid page.
    assert client_a.get("/?page=abc").status_code == 200
    assert client_a.get("/?page=999").status_code == 200


def test_personal_notice_is_shown_to_its_reader_only(client_a, client_b, client_anon, reader_a):
    notice = NoticeFactory(title_en="Your account is confirmed", reader=reader_a)
    assert "Your account is confirmed" in titles(client_a.get("/"))
    assert "Your account is confirmed" not in titles(client_b.get("/"))
    assert "Your account is confirmed" not in titles(client_anon.get("/"))
    url = reverse("notice_detail", args=[notice.pk])
    assert client_b.get(url).status_code == 404
    assert client_anon.get(url).status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_personal_notice_is_unread_until_opened(client_a, reader_a):
    notice = NoticeFactory(title_en="Request update", reader=reader_a)
    board = client_a.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Unread" in board and "Your notices" in board
    detail = client_a.get(reverse("notice_detail", args=[notice.pk]))
    assert detail.status_code == 200
    notice.refresh_from_db()
    assert notice.read_at is not None
    board = client_a.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Unread" not in board
    assert "Request update" in board


def test_public_notice_opens_for_everyone(
    client_a, client_b, client_pending, client_anon, client_staff
):
    notice = NoticeFactory(title_en="Holiday", body_en="Closed on Monday.\n\nSee you.")
    url = reverse("notice_detail", args=[notice.pk])
    for client in (client_a, client_b, client_pending, client_anon, client_staff):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert "<p>Closed on Monday.</p>" in response.content.decode()


def test_ended_notice_detail_is_gone(client_a):
    notice = NoticeFactory(
        publish_at=timezone.now() - timedelta(days=3), end_at=timezone.now() - timedelta(days=1)
    )
    assert client_a.get(reverse("notice_detail", args=[notice.pk])).status_code == 404


def test_notice_in_one_language_shows_in_both(client_a):
    NoticeFactory(title_zh="只有中文", title_en="", body_en="")
    NoticeFactory(title_zh="", title_en="English only", body_zh="")
    english = client_a.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client_a.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "只有中文" in english and "English only" in english
    assert "只有中文" in chinese and "English only" in chinese


def test_notice_text_is_escaped(client_a):
    NoticeFactory(title_en="<script>alert(1)</script>", body_en="<b>x</b>")
    content = client_a.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;" in content


def test_pending_reader_sees_the_board_and_the_waiting_banner(client_pending):
    NoticeFactory(title_en="Welcome")
    content = client_pending.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Welcome" in content
    assert "waiting for confirmation" in content


def test_confirmed_reader_sees_no_waiting_banner(client_a):
    content = client_a.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "waiting for confirmation" not in content


def test_staff_without_reader_profile_sees_the_board(client_staff, reader_a):
    NoticeFactory(title_en="Public")
    NoticeFactory(title_en="Private", reader=reader_a)
    assert titles(client_staff.get("/")) == ["Public"]


@pytest.mark.parametrize("count", [1, 50])
def test_board_query_count_does_not_grow_with_notices(
    client_a, reader_a, django_assert_max_num_queries, count
):
    for i in range(count):
        NoticeFactory(pinned=i % 7 == 0)
        NoticeFactory(reader=reader_a)
    with django_assert_max_num_queries(8):
        response = client_a.get("/")
    assert response.status_code == 200
    assert len(response.context["page_obj"]) == min(count, 20)
    assert len(response.context["personal_notices"]) == min(count, 20)


def test_database_refuses_a_notice_without_title(db):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Notice.objects.create(title_zh="", title_en="")


def test_a_notice_shown_in_the_other_language_says_so(client_a):
    NoticeFactory(title_zh="只有中文", title_en="", body_en="")
    content = client_a.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="zh-Hans">只有中文</a>' in content


# --- issue 14, item 8: the office's notices and the reader's own apart, one line per request --


def _sections(html):
    personal = html[html.index('id="personal-heading"') : html.index('id="office-heading"')]
    office = html[html.index('id="office-heading"') :]
    return personal, office


def test_office_and_personal_notices_are_shown_apart(client_a, reader_a):
    NoticeFactory(title_en="Closed on Monday")
    NoticeFactory(title_en="Request 5: in process", reader=reader_a)
    html = client_a.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    personal, office = _sections(html)
    assert "Request 5: in process" in personal and "Request 5: in process" not in office
    assert "Closed on Monday" in office and "Closed on Monday" not in personal
    assert "From the ILL office" in html


def test_another_readers_personal_notices_stay_theirs(client_b, reader_a):
    NoticeFactory(title_en="Only for A", reader=reader_a)
    html = client_b.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Only for A" not in html
    assert "No notices for you at the moment." in html


def test_a_request_with_three_changes_in_a_day_is_one_line(client_a, reader_a, staff):
    from requests_app.lifecycle import request_transition
    from tests.factories import IllRequestFactory

    ill_request = IllRequestFactory(reader=reader_a)
    other = IllRequestFactory(reader=reader_a)
    request_transition(ill_request=ill_request, to="in_process", actor=staff)
    request_transition(ill_request=ill_request, to="awaiting_cost_approval", actor=staff, quote=9)
    request_transition(ill_request=other, to="in_process", actor=staff)
    request_transition(ill_request=other, to="awaiting_cost_approval", actor=staff, quote=5)
    notice = Notice.objects.get(reader=reader_a, topic=f"request:{ill_request.number}")
    client_a.get(reverse("notice_detail", args=[notice.pk]))  # read
    request_transition(ill_request=ill_request, to="in_process", actor=staff)
    request_transition(ill_request=ill_request, to="delivered", actor=staff)

    mine = Notice.objects.filter(reader=reader_a)
    assert mine.filter(topic=f"request:{ill_request.number}").count() == 1
    latest = mine.get(topic=f"request:{ill_request.number}")
    # The line tells the latest change, unread again, and comes first.
    assert latest.read_at is None
    html = client_a.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    personal, _office = _sections(html)
    assert personal.count(f"Request {ill_request.number}:") == 1
    assert latest.title_en in personal
    assert personal.index(f"Request {ill_request.number}:") < personal.index(
        f"Request {other.number}:"
    )


def test_notices_without_a_topic_are_never_merged(reader_a):
    from readers.services import notice_send

    notice_send(reader=reader_a, title="Account confirmation notice", body="One")
    notice_send(reader=reader_a, title="Account confirmation notice", body="Two")
    assert Notice.objects.filter(reader=reader_a).count() == 2


def test_the_boards_rows_show_local_dates_tags_links_and_the_titles_language(client_a, reader_a):
    """The rows are written in Python since issue 14: what the template showed, row by row."""
    published = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
    office = NoticeFactory(title_en="", title_zh="闭馆通知", publish_at=published, pinned=True)
    own = NoticeFactory(title_en="Your request <b>", publish_at=published, reader=reader_a)
    content = client_a.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # Shanghai time: 17:30 UTC is half past one the next morning.
    assert '<tr class="is-pinned">' in content
    assert '<time datetime="2026-03-02T01:30:00+08:00">2026-03-02</time>' in content
    assert '<span class="tag tag--pinned">Pinned</span>' in content
    assert f'<a href="/notices/{office.pk}/" lang="zh-Hans">闭馆通知</a>' in content
    assert '<li class="is-unread">' in content
    assert '<time datetime="2026-03-02T01:30:00+08:00">2026-03-02 01:30</time>' in content
    assert '<span class="tag tag--unread">Unread</span>' in content
    assert f'<a href="/notices/{own.pk}/" lang="en">Your request &lt;b&gt;</a>' in content
    assert "Your request <b>" not in content
