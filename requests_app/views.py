"""The reader's side of ILL requests: submit, list, detail, cancel, quotes, re-request, OpenURL.

Every view is for confirmed readers only, and every request is looked up through
`get_request_for_reader`, so nobody reaches another reader's request, whatever number they try.
The delivered file's statement and download (`delivery_statement_page`,
`delivery_download_response`) also serve a guest's private link (guest_views.py), with the
right each page holds given as a `DeliveryPlace`.
"""

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.timezone import template_localtime
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.ledger import LedgerError, ledger_owing
from accounts.legacy import LegacyAccount
from readers.decorators import confirmed_reader_required
from readers.models import DEFAULT_COPYRIGHT_STATEMENT, Page, PageSlug, ReaderStatus

from . import services
from .delivery import (
    Refusal,
    delivery_acknowledge,
    delivery_can_download,
    delivery_claim_download,
    delivery_open,
    delivery_response,
)
from .forms import (
    GROUPS,
    IllRequestForm,
    LegacyRequestFilterForm,
    RequestFilterForm,
    initial_from_reader,
    initial_from_request,
    new_token,
)
from .lifecycle import TransitionError
from .models import IllRequest, KeptCitation, ServiceType, Status
from .openurl import read_openurl

logger = logging.getLogger(__name__)

OPENURL_SESSION_KEY = "requests_app.openurl"
DUPLICATES_SHOWN = 10
# Citations kept for a reader waiting for confirmation; beyond this the oldest go.
KEPT_CITATIONS_MAX = 20


def get_request_for_reader(request, number) -> IllRequest:
    """The signed-in reader's request with this number, or 404 (for anyone else's too)."""
    return get_object_or_404(
        IllRequest.objects.for_reader(request.user.reader)
        .with_total_fee()
        .select_related("reader", "delivery"),
        number=number,
    )


def _render_form(request, form, *, duplicates=(), copied_from=None):
    owing = ledger_owing(request.user.reader)
    if owing is not None:
        # BLOCK_REQUESTS_WHEN_OWING: say why, and where to settle, instead of the form.
        return render(request, "accounts/owing.html", {"owing": owing}, status=403)
    return render(
        request,
        "requests_app/request_form.html",
        {
            "form": form,
            "duplicates": duplicates,
            "copied_from": copied_from,
        },
    )


@confirmed_reader_required
@require_http_methods(["GET", "POST"])
def request_submit(request):
    """提交申请: the form; prefilled from the profile and from an OpenURL if one came in."""
    reader = request.user.reader
    if request.method != "POST":
        citation = request.session.pop(OPENURL_SESSION_KEY, None) or _take_kept_citation(
            request, reader
        )
        initial = {**initial_from_reader(reader), **(citation or {})}
        return _render_form(request, IllRequestForm(initial=initial))

    form = IllRequestForm(request.POST)
    if not form.is_valid():
        return _render_form(request, form)
    token = form.cleaned_data["token"]
    if "confirm_duplicate" not in request.POST:
        duplicates = list(
            services.request_duplicates(reader=reader, data=form.cleaned_data, exclude_token=token)[
                :DUPLICATES_SHOWN
            ]
        )
        if duplicates:
            return _render_form(request, form, duplicates=duplicates)
    try:
        ill_request, created = services.request_submit(
            reader=reader, data=form.cleaned_data, token=token
        )
    except LedgerError:
        return _render_form(request, form)
    if created:
        messages.success(
            request,
            _(
                "Your request has been submitted with number %(number)s. "
                "A confirmation is on its way by e-mail."
            )
            % {"number": ill_request.number},
        )
    else:
        messages.info(
            request,
            _("This form was already submitted: it is request %(number)s.")
            % {"number": ill_request.number},
        )
    return redirect(ill_request)


@confirmed_reader_required
@require_GET
def request_copy(request, number):
    """Re-request: a new form prefilled from one of the reader's requests."""
    original = get_request_for_reader(request, number)
    initial = {**initial_from_request(original), "token": new_token()}
    return _render_form(request, IllRequestForm(initial=initial), copied_from=original)


def _take_kept_citation(request, reader) -> dict | None:
    """The oldest citation kept while the reader waited for confirmation, used up here."""
    # One query when nothing is kept (the usual case); no lock: two tabs may both show the
    # same citation, which is harmless (the form's token still makes one request per submit).
    kept = list(KeptCitation.objects.filter(reader=reader).order_by("created_at", "pk")[:2])
    if not kept:
        return None
    KeptCitation.objects.filter(pk=kept[0].pk).delete()
    more = KeptCitation.objects.filter(reader=reader).count() if len(kept) > 1 else 0
    message = _(
        "This is a citation from a link that we kept while your registration was being "
        "confirmed: check it and submit."
    )
    if more:
        message += " " + ngettext(
            "%(count)s more kept citation will fill the next new request form.",
            "%(count)s more kept citations will fill the next new request forms.",
            more,
        ) % {"count": more}
    messages.info(request, message)
    return kept[0].data


def _keep_citation(request, reader, data) -> None:
    """A pending reader's citation: kept until they are confirmed, and they are told so."""
    if data:
        with transaction.atomic():
            KeptCitation.objects.create(reader=reader, data=data)
            stale = KeptCitation.objects.filter(reader=reader).order_by("-created_at", "-pk")[
                KEPT_CITATIONS_MAX:
            ]
            KeptCitation.objects.filter(pk__in=[kept.pk for kept in stale]).delete()
        messages.info(
            request,
            _(
                "The citation from the link has been kept. Your registration is waiting for "
                "the ILL office to confirm it; once it is confirmed, the citation fills in the "
                "request form for you."
            ),
        )


@login_required
@require_GET
def openurl(request):
    """OpenURL 0.1 / 1.0 from a database or link resolver: keep the citation, open the form.

    Nothing is submitted here; the reader checks the form and clicks. A reader still waiting
    for confirmation has the citation kept (`KeptCitation`) instead of a bare refusal.
    """
    reader = getattr(request.user, "reader", None)
    if reader is None or reader.status not in (ReaderStatus.CONFIRMED, ReaderStatus.PENDING):
        return render(request, "readers/not_confirmed.html", {"profile": reader}, status=403)
    # The raw query string, not request.GET: Django decodes as UTF-8 only, and GBK citations
    # would arrive as "����" (openurl.decode_query_string).
    query_string = request.META.get("QUERY_STRING", "")
    try:
        data, unreadable = read_openurl(query_string)
    except Exception:  # the parser promises never to raise; a bad link must not be a 500
        logger.exception("OpenURL not understood: %s", query_string[:500])
        data, unreadable = {}, []
    if reader.status == ReaderStatus.PENDING:
        _keep_citation(request, reader, data)
    else:
        request.session[OPENURL_SESSION_KEY] = data
    if unreadable:
        messages.warning(
            request,
            _(
                "Part of the citation from the link could not be read (its characters are in "
                "an encoding we do not know) and has been left empty: check the form against "
                "the source."
            )
            if data
            else _(
                "The citation from the link could not be read (its characters are in an "
                "encoding we do not know): please fill in the form."
            ),
        )
    elif data and reader.status == ReaderStatus.CONFIRMED:
        messages.info(
            request, _("The citation from the link has been filled in: check it and submit.")
        )
    if reader.status == ReaderStatus.PENDING:
        return redirect("home")
    return redirect("request_submit")


class TotalFeePaginator(Paginator):
    """Pages of requests with their total fee, the total computed for the page's rows only.

    Annotated before slicing, PostgreSQL would compute the fee subquery for every row the
    OFFSET skips too (1,000 of them on page 50); here the page is chosen first, on the
    (reader, submitted_at) index, and the totals are added to its rows, in the same one query.
    """

    # What a row shows (`_request_rows`), of the request's fifty-odd columns: making twenty
    # model instances of every column was a sixth of the list's time (issue 14).
    COLUMNS = [
        "number", "user_reference", "publication_title", "article_title", "submitted_at",
        "service_type", "return_date", "status", "cancellation_requested",
    ]  # fmt: skip

    def page(self, number):
        page = super().page(number)
        rows = page.object_list
        page.object_list = (
            IllRequest.objects.filter(pk__in=rows.values("pk"))
            .only(*self.COLUMNS)
            .with_total_fee()
            .order_by(*rows.query.order_by)
        )
        return page


def _request_rows(page, list_url: str):
    """The list's table rows, rendered in Python: the markup the template wrote per row.

    Twenty rows of about forty template nodes each were most of the list's time (issue 14);
    here a row is one format_html. The labels are the template's own msgids. Each row starts
    and ends as the template's `{% for %}` body did, so the page is the same to the byte.
    """
    label_number = _("Request number")
    label_reference = _("Reference")
    label_date = _("Request date")
    label_service = _("Service type")
    label_return = _("Return date")
    label_status = _("Current status")
    label_fee = _("Total fee")
    cancel_words = _("Cancel")
    copy_words = _("Re-request")
    cancellation = format_html(
        ' <span class="tag tag--unread">{}</span>', _("cancellation requested")
    )
    # get_FOO_display builds its choices' dict on every call: translated once per page here.
    status_labels = {value: str(label) for value, label in Status.choices}
    service_labels = {value: str(label) for value, label in ServiceType.choices}
    rows = []
    for ill_request in page:
        number = ill_request.number
        url = f"{list_url}{number}/"
        submitted = template_localtime(ill_request.submitted_at)
        article = ill_request.article_title
        rows.append(
            format_html(
                "\n    <tr>\n"
                '      <td class="nowrap" data-label="{}"><a href="{}">{}</a></td>\n'
                '      <td data-label="{}">{}</td>\n'
                '      <td class="cell-title">{}{}</td>\n'
                '      <td class="nowrap" data-label="{}"><time datetime="{}">{}</time></td>\n'
                '      <td data-label="{}">{}</td>\n'
                '      <td class="nowrap" data-label="{}">{}</td>\n'
                '      <td data-label="{}"><span class="status status--{}">{}</span>{}</td>\n'
                '      <td class="num" data-label="{}">{}</td>\n'
                '      <td class="cell-actions">\n'
                "        {}\n"
                '        <a class="nowrap" href="{}copy/">{}'
                '<span class="visually-hidden"> {}</span></a>\n'
                "      </td>\n"
                "    </tr>\n    ",
                label_number,
                url,
                number,
                label_reference,
                ill_request.user_reference or "",
                ill_request.publication_title,
                format_html('<br><span class="meta">{}</span>', article) if article else "",
                label_date,
                # What the date filter gives for "c" and "Y-m-d", without its format machinery
                # (a fifth of the rows' time).
                submitted.isoformat(),
                f"{submitted:%Y-%m-%d}",
                label_service,
                service_labels.get(ill_request.service_type, ill_request.service_type),
                label_return,
                f"{ill_request.return_date:%Y-%m-%d}" if ill_request.return_date else "",
                label_status,
                ill_request.status,
                status_labels.get(ill_request.status, ill_request.status),
                cancellation if ill_request.cancellation_requested else "",
                label_fee,
                # A sum of amounts of two places: what floatformat:2 shows.
                f"{ill_request.total_fee:.2f}" if ill_request.total_fee else "",
                format_html(
                    '<a class="nowrap" href="{}cancel/">{}'
                    '<span class="visually-hidden"> {}</span></a>',
                    url,
                    cancel_words,
                    number,
                )
                if ill_request.can_cancel
                else "",
                url,
                copy_words,
                number,
            )
        )
    return mark_safe("".join(rows))


@confirmed_reader_required
@require_GET
def request_list(request):
    """申请列表: the reader's requests, newest first, filtered and searched."""
    requests = IllRequest.objects.for_reader(request.user.reader)
    form = RequestFilterForm(request.GET)
    params = {}
    if form.is_valid():
        if form.cleaned_data["status"]:
            requests = requests.filter(status=form.cleaned_data["status"])
            params["status"] = form.cleaned_data["status"]
        if form.cleaned_data["q"]:
            requests = requests.search(form.cleaned_data["q"])
            params["q"] = form.cleaned_data["q"]
    requests = requests.order_by("-submitted_at", "-number")
    page = TotalFeePaginator(requests, settings.REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "requests_app/request_list.html",
        {
            "page_obj": page,
            "rows": _request_rows(page, reverse("request_list")),
            "filter_form": form,
            "filtered": bool(params),
            "query_string": urlencode(params),
        },
    )


def _start_of(day):
    """The first moment of a local calendar day (dates are the reader's, times are UTC)."""
    return timezone.make_aware(datetime.combine(day, time.min))


@confirmed_reader_required
@require_GET
def legacy_requests(request):
    """旧版系统数据查询: the old system's requests of every old account linked or attached to
    the reader (contract with the linking wizard: `LegacyAccount.reader` is set for both; the
    requests themselves keep `reader` empty and are found through their old account).

    Three queries whatever the number of requests: the reader's old accounts, the count and the
    page. Speed at thousands of old requests per reader: see `illrequest_legacy_account_date`
    in models.py.
    """
    accounts = list(
        LegacyAccount.objects.filter(reader=request.user.reader)
        .order_by("user_id")
        .only("pk", "username")
    )
    form = LegacyRequestFilterForm(request.GET)
    params = {}
    page = None
    if accounts:
        requests = IllRequest.objects.filter(legacy_account__in=accounts).with_total_fee()
        if form.is_valid():
            data = form.cleaned_data
            if data["status"]:
                requests = requests.filter(status=data["status"])
                params["status"] = data["status"]
            if data["q"]:
                requests = requests.search(data["q"])
                params["q"] = data["q"]
            if data["date_from"]:
                requests = requests.filter(submitted_at__gte=_start_of(data["date_from"]))
                params["date_from"] = data["date_from"].isoformat()
            if data["date_to"]:
                end = _start_of(data["date_to"] + timedelta(days=1))
                requests = requests.filter(submitted_at__lt=end)
                params["date_to"] = data["date_to"].isoformat()
        else:
            requests = requests.none()
        requests = requests.select_related("legacy_account").order_by("-submitted_at", "-number")
        page = Paginator(requests, settings.REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "requests_app/legacy_requests.html",
        {
            "accounts": accounts,
            "page_obj": page,
            "filter_form": form,
            "filtered": bool(params) or not form.is_valid(),
            "query_string": urlencode(params),
        },
    )


@functools.lru_cache(maxsize=len(settings.LANGUAGES))
def _group_parts(language: str) -> list[tuple[str, list[tuple[str, str, dict]]]]:
    """The groups' opening markup and, per field, its name, its `<dt>` and its choices' labels
    (value → label, as get_FOO_display reads them; empty for a field without choices): the
    same for every request in a language, so translated and escaped once per process."""
    parts = []
    for number, (_slug, legend, names) in enumerate(GROUPS, start=1):
        opening = format_html(
            '\n<section aria-labelledby="group-{}">\n  <h2 id="group-{}">{}</h2>\n'
            '  <dl class="facts">\n    ',
            number,
            number,
            legend,
        )
        fields = []
        for name in names:
            field = IllRequest._meta.get_field(name)
            label = format_html("<dt>{}</dt><dd>", capfirst(field.verbose_name))
            choices = {value: str(text) for value, text in field.flatchoices}
            fields.append((name, label, choices))
        parts.append((opening, fields))
    return parts


def _field_groups(ill_request):
    """Every field of the request, as the form groups them: a section per group, its legend
    and a list of label and value ("—" for an empty one), for the reader's page and the
    guest's private page.

    Rendered here, not by a template looping over 31 fields (most of the detail page's
    rendering time, issue 14); the markup is what that template wrote, to the byte.
    """
    html = ["\n"]
    for opening, fields in _group_parts(get_language()):
        html.append(opening)
        for name, label, choices in fields:
            value = getattr(ill_request, name)
            if choices:
                value = choices.get(value, value)
            shown = _EMPTY if value is None or value == "" else linebreaksbr(value)
            html += [label, shown, "</dd>"]
        html.append("\n  </dl>\n</section>\n")
    html.append("\n")
    return mark_safe("".join(html))


_EMPTY = '<span class="muted">—</span>'


# The usual way of a request, by service type: what the timeline shows as still ahead.
_USUAL_PATH = {
    ServiceType.COPY: [Status.SUBMITTED, Status.IN_PROCESS, Status.DELIVERED],
    ServiceType.LOAN: [Status.SUBMITTED, Status.IN_PROCESS, Status.ON_LOAN, Status.RETURNED],
}
# Where a status stands on that way when it is not on it (waiting for the reader is a halt
# while the office is on it).
_PATH_POSITION = {
    Status.AWAITING_COST_APPROVAL: Status.IN_PROCESS,
    Status.AWAITING_PAYMENT: Status.IN_PROCESS,
}


def _timeline(ill_request, history):
    """The statuses the request went through, with dates, then the usual ones still ahead.

    [{"status": label, "at": datetime or None, "state": "done" | "current" | "ahead"}]
    """
    steps = []
    for change in history:
        if steps and steps[-1]["value"] == change.to_status:
            continue  # a note without a change of status
        steps.append({"value": change.to_status, "at": change.at, "state": "done"})
    if not steps or steps[-1]["value"] != ill_request.status:
        steps.append({"value": ill_request.status, "at": None, "state": "done"})
    steps[-1]["state"] = "current"
    if not ill_request.is_closed:
        path = _USUAL_PATH.get(ill_request.service_type, _USUAL_PATH[ServiceType.COPY])
        here = _PATH_POSITION.get(ill_request.status, ill_request.status)
        ahead = path[path.index(here) + 1 :] if here in path else []
        steps += [{"value": status, "at": None, "state": "ahead"} for status in ahead]
    for step in steps:
        step["status"] = Status(step.pop("value")).label
    return steps


@confirmed_reader_required
@require_GET
def request_detail(request, number):
    ill_request = get_request_for_reader(request, number)
    history = list(ill_request.history.for_reader().order_by("at", "pk"))
    return render(
        request,
        "requests_app/request_detail.html",
        {
            "ill_request": ill_request,
            "groups": _field_groups(ill_request),
            "fee_lines": ill_request.fee_lines.all(),
            "history": history,
            "timeline": _timeline(ill_request, history),
            **delivery_shown(request, ill_request, DeliveryPlace.for_reader(ill_request)),
        },
    )


def _act(request, number, action, success_message):
    ill_request = get_request_for_reader(request, number)
    try:
        action(ill_request=ill_request, actor=request.user)
    except TransitionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success_message % {"number": ill_request.number})
    return redirect(ill_request)


@confirmed_reader_required
@require_http_methods(["GET", "POST"])
def request_cancel(request, number):
    """Cancel (取消): a confirmation page, then POST."""
    if request.method == "POST":
        return _act(
            request, number, services.request_cancel, _("Request %(number)s has been cancelled.")
        )
    ill_request = get_request_for_reader(request, number)
    if not ill_request.can_cancel:
        messages.error(
            request,
            _("Request %(number)s can no longer be cancelled here.")
            % {"number": ill_request.number},
        )
        return redirect(ill_request)
    return render(request, "requests_app/request_cancel.html", {"ill_request": ill_request})


def _action_view(action, success_message):
    """A POST-only view that makes the reader's `action` on their request, then shows it."""

    @confirmed_reader_required
    @require_POST
    def view(request, number):
        return _act(request, number, action, success_message)

    return view


request_ask_cancellation = _action_view(
    services.request_ask_cancellation,
    gettext_lazy("The ILL office has been asked to cancel request %(number)s."),
)
request_accept_quote = _action_view(
    services.request_accept_quote,
    gettext_lazy("You accepted the cost of request %(number)s; the ILL office goes on with it."),
)


@confirmed_reader_required
@require_http_methods(["GET", "POST"])
def request_decline_quote(request, number):
    """Decline the quoted cost, which cancels the request: a confirmation page, then POST."""
    if request.method == "POST":
        return _act(request, number, services.request_decline_quote, QUOTE_DECLINED)
    ill_request = get_request_for_reader(request, number)
    return decline_quote_page(request, ill_request, back=ill_request.get_absolute_url())


QUOTE_DECLINED = gettext_lazy("You declined the cost; request %(number)s has been cancelled.")


def decline_quote_page(request, ill_request, *, back, key=None):
    """The confirmation of declining a quote, stating it (a reader's, or a guest's through the
    private link `key`); back to the request when it waits for no decision on a cost."""
    if not ill_request.awaits_cost_approval:
        messages.error(
            request,
            _("Request %(number)s is not waiting for your decision on a cost.")
            % {"number": ill_request.number},
        )
        return redirect(back)
    return render(
        request,
        "requests_app/request_decline_quote.html",
        {"ill_request": ill_request, "key": key, "back": back},
    )


# --- Electronic delivery (SPEC 4.6) ------------------------------------------------------------


def delivery_of(ill_request):
    try:
        return ill_request.delivery
    except IllRequest.delivery.RelatedObjectDoesNotExist:
        return None


@dataclass(frozen=True)
class DeliveryPlace:
    """Where a delivered file is reached, and by what right: the reader's pages (signed in), or
    a guest's private link (`link`, the key of `/guest/r/<number>/<key>/`)."""

    page_url: str
    statement_url: str
    download_url: str
    link: str | None = None

    @classmethod
    def for_reader(cls, ill_request) -> "DeliveryPlace":
        number = ill_request.number
        return cls(
            page_url=ill_request.get_absolute_url(),
            statement_url=reverse("delivery_statement", args=[number]),
            download_url=reverse("delivery_download", args=[number]),
        )

    @classmethod
    def for_guest(cls, ill_request, key: str) -> "DeliveryPlace":
        args = [ill_request.number, key]
        return cls(
            page_url=reverse("guest_request", args=args),
            statement_url=reverse("guest_delivery_statement", args=args),
            download_url=reverse("guest_delivery_download", args=args),
            link=key,
        )


def delivery_shown(request, ill_request, place: DeliveryPlace) -> dict:
    """What the request's page says about its delivered file, if it has one."""
    delivery = delivery_of(ill_request)
    if delivery is None:
        return {"delivery": None}
    refusal = delivery_can_download(delivery, user=request.user, link=place.link)
    return {
        "delivery": delivery,
        "delivery_refusal": refusal and refusal.value,
        "delivery_place": place,
    }


class AcknowledgeForm(forms.Form):
    accept = forms.BooleanField(
        label=gettext_lazy("I have read the copyright statement and accept it."),
        error_messages={
            "required": gettext_lazy("Tick the box to accept the statement, then download.")
        },
    )


def _refused(request, place, refusal):
    messages.error(request, refusal.label)
    return redirect(place.page_url)


def _download(request, ill_request, delivery, place):
    """Stream the file to its reader, counting the download; else back to the request page."""
    refusal = delivery_can_download(delivery, user=request.user, link=place.link)
    if refusal == Refusal.NOT_ACKNOWLEDGED:
        return redirect(place.statement_url)
    if refusal:
        return _refused(request, place, refusal)
    try:
        handle = delivery_open(delivery)
    except OSError:
        logger.exception("Delivered file of request %s cannot be read", ill_request.number)
        messages.error(
            request,
            _(
                "The file cannot be read at the moment. Please try again later or ask the ILL "
                "office."
            ),
        )
        return redirect(place.page_url)
    refusal = delivery_claim_download(delivery, user=request.user, link=place.link)
    if refusal:
        handle.close()
        return _refused(request, place, refusal)
    return delivery_response(delivery, handle)


def _delivered_request(request, number):
    ill_request = get_request_for_reader(request, number)
    delivery = delivery_of(ill_request)
    if delivery is None:
        raise Http404
    return ill_request, delivery


def delivery_statement_page(request, ill_request, delivery, place):
    """The copyright statement (a page staff edit), accepted once per document, then the
    download: for the reader's pages and a guest's private link alike."""
    refusal = delivery_can_download(delivery, user=request.user, link=place.link)
    if refusal not in (None, Refusal.NOT_ACKNOWLEDGED):
        return _refused(request, place, refusal)
    form = AcknowledgeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        refusal = delivery_acknowledge(delivery, user=request.user, link=place.link)
        if refusal:
            return _refused(request, place, refusal)
        return _download(request, ill_request, delivery, place)
    statement = Page.objects.filter(slug=PageSlug.COPYRIGHT).first()
    return render(
        request,
        "requests_app/delivery_statement.html",
        {
            "ill_request": ill_request,
            "delivery": delivery,
            "delivery_place": place,
            "statement": statement if statement and statement.body else None,
            "default_statement": DEFAULT_COPYRIGHT_STATEMENT,
            "form": form,
            "acknowledged": refusal is None,
        },
        status=400 if form.is_bound else 200,
    )


def delivery_download_response(request, ill_request, delivery, place):
    """The download (POST, from the request page's button). A GET — the e-mail's link followed,
    a bookmark — shows the request page with the button instead: a link that a mail scanner or
    a prefetch follows must not use up a download."""
    if request.method != "POST":
        return redirect(place.page_url)
    return _download(request, ill_request, delivery, place)


@confirmed_reader_required
@require_http_methods(["GET", "POST"])
def delivery_statement(request, number):
    """The copyright statement, accepted once per document, then the download."""
    ill_request, delivery = _delivered_request(request, number)
    return delivery_statement_page(
        request, ill_request, delivery, DeliveryPlace.for_reader(ill_request)
    )


@confirmed_reader_required
@require_http_methods(["GET", "POST"])
def delivery_download(request, number):
    """The download (POST only; see `delivery_download_response`)."""
    ill_request, delivery = _delivered_request(request, number)
    return delivery_download_response(
        request, ill_request, delivery, DeliveryPlace.for_reader(ill_request)
    )
