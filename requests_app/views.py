"""The reader's side of ILL requests: submit, list, detail, cancel, quotes, re-request, OpenURL.

Every view is for confirmed readers only, and every request is looked up through
`get_request_for_reader`, so nobody reaches another reader's request, whatever number they try.
"""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.ledger import LedgerError, ledger_owing
from readers.decorators import confirmed_reader_required

from . import services
from .forms import (
    GROUPS,
    IllRequestForm,
    RequestFilterForm,
    initial_from_reader,
    initial_from_request,
    new_token,
)
from .lifecycle import TransitionError
from .models import IllRequest
from .openurl import parse_openurl

logger = logging.getLogger(__name__)

OPENURL_SESSION_KEY = "requests_app.openurl"
DUPLICATES_SHOWN = 10


def get_request_for_reader(request, number) -> IllRequest:
    """The signed-in reader's request with this number, or 404 (for anyone else's too)."""
    return get_object_or_404(
        IllRequest.objects.for_reader(request.user.reader)
        .with_total_fee()
        .select_related("reader"),
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
        initial = {**initial_from_reader(reader), **request.session.pop(OPENURL_SESSION_KEY, {})}
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


@confirmed_reader_required
@require_GET
def openurl(request):
    """OpenURL 0.1 / 1.0 from a database or link resolver: keep the citation, open the form.

    Nothing is submitted here; the reader checks the form and clicks.
    """
    try:
        data = parse_openurl(request.GET)
    except Exception:  # the parser promises never to raise; a bad link must not be a 500
        logger.exception("OpenURL not understood: %s", request.GET.urlencode()[:500])
        data = {}
    request.session[OPENURL_SESSION_KEY] = data
    if data:
        messages.info(
            request, _("The citation from the link has been filled in: check it and submit.")
        )
    return redirect("request_submit")


class TotalFeePaginator(Paginator):
    """Pages of requests with their total fee, the total computed for the page's rows only.

    Annotated before slicing, PostgreSQL would compute the fee subquery for every row the
    OFFSET skips too (1,000 of them on page 50); here the page is chosen first, on the
    (reader, submitted_at) index, and the totals are added to its rows, in the same one query.
    """

    def page(self, number):
        page = super().page(number)
        rows = page.object_list
        page.object_list = (
            IllRequest.objects.filter(pk__in=rows.values("pk"))
            .with_total_fee()
            .order_by(*rows.query.order_by)
        )
        return page


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
            "filter_form": form,
            "filtered": bool(params),
            "query_string": urlencode(params),
        },
    )


def _field_groups(ill_request):
    """Every field of the request, as the form groups them: (legend, [(label, value)])."""
    groups = []
    for _slug, legend, names in GROUPS:
        rows = []
        for name in names:
            field = IllRequest._meta.get_field(name)
            value = getattr(ill_request, name)
            if field.choices:
                value = getattr(ill_request, f"get_{name}_display")()
            rows.append((capfirst(field.verbose_name), value))
        groups.append((legend, rows))
    return groups


@confirmed_reader_required
@require_GET
def request_detail(request, number):
    ill_request = get_request_for_reader(request, number)
    return render(
        request,
        "requests_app/request_detail.html",
        {
            "ill_request": ill_request,
            "groups": _field_groups(ill_request),
            "fee_lines": ill_request.fee_lines.all(),
            "history": ill_request.history.for_reader().order_by("at", "pk"),
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
request_decline_quote = _action_view(
    services.request_decline_quote,
    gettext_lazy("You declined the cost; request %(number)s has been cancelled."),
)
