"""The public account's guest pages: submit, "my requests" of this browser, the private link.

The submit and list pages are for a guest session only (`accounts.public`). The private link
(`/guest/r/<number>/<key>/`) needs no login: it opens that one request for whoever holds it,
and every other number or key is a 404. "Send me my links" answers the same whether or not the
address has requests, and is rate-limited.
"""

from allauth.core import ratelimit
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.public import client_address, guest_digest, guest_token
from core.forms import CleanTextFormMixin

from . import services
from .forms import IllRequestForm
from .guests import GuestLimitReached, guest_links_send, guest_request_by_link, guest_request_submit
from .lifecycle import TransitionError
from .models import Event, IllRequest, ServiceType
from .openurl import parse_openurl
from .views import (
    OPENURL_SESSION_KEY,
    QUOTE_DECLINED,
    DeliveryPlace,
    _field_groups,
    decline_quote_page,
    delivery_download_response,
    delivery_of,
    delivery_shown,
    delivery_statement_page,
)


def guest_required(view):
    """A guest session of the public account; anyone else is sent to log in, or refused."""

    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not guest_token(request):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


GUEST_CONTACT_REQUIRED = ["contact_name", "contact_address", "contact_phone", "contact_email"]


class GuestRequestForm(IllRequestForm):
    """The request form as a guest fills it in: copies only, the contact block typed by hand."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_type"].choices = [
            (value, label) for value, label in ServiceType.choices if value == ServiceType.COPY
        ]
        self.fields["service_type"].initial = ServiceType.COPY
        for name in GUEST_CONTACT_REQUIRED:
            self.fields[name].required = True
        self.fields["contact_email"].help_text = _(
            "Your request, its private link and every change are e-mailed here."
        )


@guest_required
@require_http_methods(["GET", "POST"])
def guest_submit(request):
    """提交申请 for a guest."""
    if request.method != "POST":
        citation = request.session.pop(OPENURL_SESSION_KEY, {})
        form = GuestRequestForm(initial={**citation, "service_type": ServiceType.COPY})
        return render(request, "requests_app/guest_form.html", {"form": form})
    form = GuestRequestForm(request.POST)
    if not form.is_valid():
        return render(request, "requests_app/guest_form.html", {"form": form})
    try:
        ill_request, created = guest_request_submit(
            session_token=guest_token(request),
            data=form.cleaned_data,
            token=form.cleaned_data["token"],
            language=translation.get_language(),
            client_address=client_address(request),
        )
    except GuestLimitReached as exc:
        form.add_error(None, str(exc))
        return render(request, "requests_app/guest_form.html", {"form": form}, status=429)
    if created:
        messages.success(
            request,
            _(
                "Your request has been submitted with number %(number)s. Its private link is on "
                "its way to %(email)s: keep that e-mail to open the request from any browser."
            )
            % {"number": ill_request.number, "email": ill_request.contact_email},
        )
    else:
        messages.info(
            request,
            _("This form was already submitted: it is request %(number)s.")
            % {"number": ill_request.number},
        )
    return redirect(ill_request.guest_link_path())


@guest_required
@require_GET
def guest_openurl(request):
    """An OpenURL arriving in a guest session: the citation fills the guest's form."""
    request.session[OPENURL_SESSION_KEY] = parse_openurl(request.GET)
    if request.session[OPENURL_SESSION_KEY]:
        messages.info(
            request, _("The citation from the link has been filled in: check it and submit.")
        )
    return redirect("guest_submit")


@guest_required
@require_GET
def guest_list(request):
    """申请列表 for a guest: the requests made from this browser session only."""
    requests = (
        IllRequest.objects.for_guest_session(guest_digest(guest_token(request)))
        .with_total_fee()
        .order_by("-submitted_at", "-number")
    )
    page = Paginator(requests, settings.REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "requests_app/guest_list.html", {"page_obj": page})


# --- The private link ----------------------------------------------------------------------

# History entries the guest made themselves ("You" in the history).
_GUEST_EVENTS = {
    Event.READER_CANCELLED,
    Event.CANCELLATION_ASKED,
    Event.QUOTE_ACCEPTED,
    Event.QUOTE_DECLINED,
}


def _by_link(number, key) -> IllRequest:
    ill_request = guest_request_by_link(number, key)
    if ill_request is None:
        raise Http404
    return ill_request


# The private pages show a guest's name, address and phone to whoever holds the link, logged in
# or not: like every page of a signed-in person, nothing of them is kept by a browser or a cache
# (library terminals are shared).
@never_cache
@require_GET
def guest_request(request, number, key):
    """The private link: one guest request, for whoever holds the link, no login needed."""
    ill_request = _by_link(number, key)
    history = []
    for change in ill_request.history.for_reader().order_by("at", "pk"):
        if change.actor_id is not None:
            by = _("ILL office")
        elif not change.from_status or change.event in _GUEST_EVENTS:
            by = _("You")
        else:
            by = _("System")
        history.append((change, by))
    return render(
        request,
        "requests_app/guest_request.html",
        {
            "ill_request": ill_request,
            "key": key,
            "groups": _field_groups(ill_request),
            "fee_lines": ill_request.fee_lines.all(),
            "payments": ill_request.guest_payments.all(),
            "history": history,
            **delivery_shown(request, ill_request, DeliveryPlace.for_guest(ill_request, key)),
        },
    )


def _act(request, number, key, action, success_message):
    ill_request = _by_link(number, key)
    try:
        action(ill_request=ill_request, actor=None)
    except TransitionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success_message % {"number": ill_request.number})
    return redirect("guest_request", number, key)


@never_cache
@require_http_methods(["GET", "POST"])
def guest_cancel(request, number, key):
    """Cancel (取消) through the private link: a confirmation page, then POST."""
    if request.method == "POST":
        return _act(
            request,
            number,
            key,
            services.request_cancel,
            _("Request %(number)s has been cancelled."),
        )
    ill_request = _by_link(number, key)
    if not ill_request.can_cancel:
        messages.error(
            request,
            _("Request %(number)s can no longer be cancelled here.")
            % {"number": ill_request.number},
        )
        return redirect("guest_request", number, key)
    return render(
        request, "requests_app/guest_cancel.html", {"ill_request": ill_request, "key": key}
    )


def _action_view(action, success_message):
    @never_cache
    @require_POST
    def view(request, number, key):
        return _act(request, number, key, action, success_message)

    return view


guest_ask_cancellation = _action_view(
    services.request_ask_cancellation,
    gettext_lazy("The ILL office has been asked to cancel request %(number)s."),
)
guest_accept_quote = _action_view(
    services.request_accept_quote,
    gettext_lazy("You accepted the cost of request %(number)s; the ILL office goes on with it."),
)


@never_cache
@require_http_methods(["GET", "POST"])
def guest_decline_quote(request, number, key):
    """Decline the quoted cost, which cancels the request: a confirmation page stating the quote,
    then POST (as for readers; one click was irreversible)."""
    if request.method == "POST":
        return _act(request, number, key, services.request_decline_quote, QUOTE_DECLINED)
    ill_request = _by_link(number, key)
    back = reverse("guest_request", args=[number, key])
    return decline_quote_page(request, ill_request, back=back, key=key)


# --- The delivered PDF, through the private link (SPEC 4.6) -----------------------------------
# The same statement, limits and counting as a reader's (views.py, delivery.py): the link is
# the guest's right to the file, checked again by `delivery_can_download`.


def _delivered_by_link(number, key):
    ill_request = _by_link(number, key)
    delivery = delivery_of(ill_request)
    if delivery is None:
        raise Http404
    return ill_request, delivery, DeliveryPlace.for_guest(ill_request, key)


@never_cache
@require_http_methods(["GET", "POST"])
def guest_delivery_statement(request, number, key):
    """The copyright statement under the private link, accepted once, then the download."""
    return delivery_statement_page(request, *_delivered_by_link(number, key))


@never_cache
@require_http_methods(["GET", "POST"])
def guest_delivery_download(request, number, key):
    """The download under the private link (POST; a GET shows the request's page)."""
    return delivery_download_response(request, *_delivered_by_link(number, key))


# --- Send me my links ----------------------------------------------------------------------


class GuestLinksForm(CleanTextFormMixin, forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("E-mail"),
        max_length=254,
        help_text=gettext_lazy("The e-mail address you gave on your requests."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


@require_http_methods(["GET", "POST"])
def guest_links(request):
    """ "Send me my links": the private links of the requests made with an e-mail address."""
    form = GuestLinksForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        if not ratelimit.consume(request, action="guest_links", key=email):
            form.add_error(
                None,
                _("Too many requests for links. Please wait an hour and try again."),
            )
            return render(request, "requests_app/guest_links.html", {"form": form}, status=429)
        guest_links_send(email=email, language=translation.get_language())
        messages.success(
            request,
            _(
                "If requests were made with %(email)s, their private links are on their way "
                "there now. Check your mailbox (and its spam folder)."
            )
            % {"email": email},
        )
        return redirect("guest_links")
    return render(request, "requests_app/guest_links.html", {"form": form})
