"""The reader's home (notice board), notices, staff-edited pages and not-yet-built sections."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext_lazy as _

from .decorators import reader_required
from .forms import ReaderProfileForm
from .models import DEFAULT_COPYRIGHT_STATEMENT, Notice, Page, PageSlug, ReaderStatus
from .services import reader_update_profile

# The reader's latest personal notices shown on the board (one per request, see notice_send);
# older ones are on the requests' own pages.
PERSONAL_NOTICES_SHOWN = 20


def home(request):
    """The notice board: the office's notices for everyone and, apart, the reader's own.

    The board is a reader's first entry after login: a reader who has not answered SPEC 3's
    old-account question (readers from before it) is sent to it first.
    """
    reader = getattr(request.user, "reader", None) if request.user.is_authenticated else None
    if _must_answer_old_account_question(request.user, reader):
        return redirect("legacy_choice")
    notices = Notice.objects.published().public().board_order()
    page = Paginator(notices, settings.NOTICES_PER_PAGE).get_page(request.GET.get("page"))
    personal = list(Notice.objects.personal_to(reader)[:PERSONAL_NOTICES_SHOWN]) if reader else []
    template = "readers/home.html" if request.user.is_authenticated else "readers/landing.html"
    context = {
        "page_obj": page,
        "notice_rows": _notice_rows(page),
        "personal_notices": personal,
        "personal_rows": _personal_rows(personal),
    }
    return render(request, template, context)


def _notice_url_prefix() -> str:
    return reverse("notice_detail", args=[0]).removesuffix("0/")


def _notice_rows(notices):
    """The board's table rows, rendered in Python: the markup the template wrote per row.

    Forty notices of some twenty template nodes each (a URL lookup, two date filters, the
    bilingual title) were half of the board's time (issue 14); here a row is one format_html.
    """
    pinned_words, personal_words, unread_words = (
        str(_("Pinned")),
        str(_("Personal")),
        str(_("Unread")),
    )
    prefix = _notice_url_prefix()
    rows = []
    for notice in notices:
        unread = notice.is_unread
        classes = " ".join(
            name for name, on in (("is-pinned", notice.pinned), ("is-unread", unread)) if on
        )
        rows.append(
            format_html(
                '\n    <tr class="{}">\n'
                "      <td>{}</td>\n"
                "      <td>\n        {}{}{}\n"
                "        {}\n"
                "      </td>\n    </tr>",
                classes,
                _time(notice, "%Y-%m-%d"),
                _tag("pinned", pinned_words) if notice.pinned else "",
                _tag("personal", personal_words) if notice.is_personal else "",
                _tag("unread", unread_words) if unread else "",
                _link(notice, prefix),
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 - every part went through format_html


def _personal_rows(notices):
    """The reader's own notices on the board, one list item each (as `_notice_rows`)."""
    unread_words = str(_("Unread"))
    prefix = _notice_url_prefix()
    rows = []
    for notice in notices:
        unread = notice.is_unread
        rows.append(
            format_html(
                '\n    <li class="{}">\n      {}\n      {}\n      {}\n    </li>',
                "is-unread" if unread else "",
                _time(notice, "%Y-%m-%d %H:%M"),
                _tag("unread", unread_words) if unread else "",
                _link(notice, prefix),
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 - every part went through format_html


def _time(notice, shown: str) -> str:
    """Its publishing time in local time (what the date filter gives for "c" and `shown`)."""
    published = template_localtime(notice.publish_at)
    return format_html(
        '<time datetime="{}">{}</time>', published.isoformat(), f"{published:{shown}}"
    )


def _link(notice, prefix: str) -> str:
    return format_html(
        '<a href="{}{}/" lang="{}">{}</a>', prefix, notice.pk, notice.title_lang, notice.title
    )


def _tag(kind: str, words) -> str:
    return format_html('<span class="tag tag--{}">{}</span>', kind, words)


def _must_answer_old_account_question(user, reader) -> bool:
    # Read from the reader the board loads anyway: no query of its own. Staff and rejected
    # readers are never asked; guests of the public account have no reader.
    return (
        reader is not None
        and reader.legacy_choice_at is None
        and not user.is_staff
        and reader.status != ReaderStatus.REJECTED
    )


def notice_detail(request, pk):
    notice = get_object_or_404(Notice.objects.visible_to(request.user), pk=pk)
    if notice.is_unread:
        # Only the addressee can see a personal notice, so opening it means it was read.
        Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=timezone.now())
    return render(request, "readers/notice_detail.html", {"notice": notice})


def page(request, slug):
    if slug not in PageSlug.values:
        raise Http404
    page = Page.objects.filter(slug=slug).first() or Page(slug=slug)
    default = DEFAULT_COPYRIGHT_STATEMENT if slug == PageSlug.COPYRIGHT else ""
    return render(request, "readers/page.html", {"page": page, "default_body": default})


@reader_required
def profile(request):
    """个人管理: the reader's details; contact details editable, the ID fixed once confirmed."""
    reader = request.user.reader
    form = ReaderProfileForm(
        request.POST or None, instance=reader, fixed_identity=reader.is_confirmed
    )
    if request.method == "POST" and form.is_valid():
        reader_update_profile(form=form, actor=request.user)
        messages.success(request, _("Your profile has been saved."))
        return redirect("profile")
    return render(request, "readers/profile.html", {"form": form, "profile": reader})
