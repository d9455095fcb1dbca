"""The gateway's own middleware: pages for error answers Django gives bare, input no view can
read, and no caching of what a signed-in person sees."""

import codecs
import functools
import logging
import string
import time

from allauth.account.adapter import get_adapter
from auditlog.middleware import AuditlogMiddleware
from django.core.exceptions import (
    BadRequest,
    ImproperlyConfigured,
    PermissionDenied,
    SuspiciousOperation,
)
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from accounts.public import is_guest

request_log = logging.getLogger("illgateway.request")


class RequestLogMiddleware:
    """One log line per request: method, path (without the query string, which may carry what
    a reader typed), status and duration in milliseconds. First in MIDDLEWARE, so the duration
    covers all the others; a view that raises is logged as the 500 Django answers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            duration_ms = round((time.perf_counter() - start) * 1000, 1)
            # The load balancer's probes every few seconds: only their failures are news.
            quiet = request.path == "/healthz" and status == 200
            request_log.log(
                logging.DEBUG if quiet else logging.INFO,
                "%s %s %s %.1fms",
                request.method,
                request.path,
                status,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": duration_ms,
                },
            )


class MethodNotAllowedPageMiddleware:
    """A browser that GETs an action URL (a bookmarked "cancel" link, say) is told what to do.

    `require_POST` and friends answer 405 with an empty body, which browsers show as their own
    blank error page. The Allow header and the status stay as they were.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            page = render(request, "405.html", status=405)
            if response.has_header("Allow"):
                page["Allow"] = response["Allow"]
            return page
        return response


# Every printable ASCII character: what a form body (URL-encoded or the headers and names of a
# multipart body) is made of. A charset that reads these bytes as other characters cannot carry
# a form.
_FORM_SYNTAX = string.printable
_FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@functools.lru_cache(maxsize=64)
def is_ascii_compatible(charset: str) -> bool:
    """Whether form data sent in `charset` can be read: ASCII bytes must read as ASCII.

    UTF-16 and UTF-32 (two or four bytes a character), UTF-7 ("+" starts an escape), EBCDIC
    (cp037, cp500…) and transforms like rot13 or base64 all fail this; UTF-8, GB18030, Big5,
    Shift_JIS, the ISO-8859 family and the other charsets browsers send pass. An unknown name
    passes too: Django ignores it and reads the body as UTF-8.
    """
    try:
        info = codecs.lookup(charset)
    except LookupError:
        return True
    if not getattr(info, "_is_text_encoding", True):
        return False
    try:
        return _FORM_SYNTAX.encode("ascii").decode(info.name) == _FORM_SYNTAX
    except (UnicodeError, ValueError):
        return False


def _has_nul(query) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in query.lists())


class BadInputMiddleware:
    """Answers 400, with the portal's page, to what no view can read, before any view reads it.

    - A form body in a charset that is not ASCII-compatible (`charset=utf-16`, utf-32, utf-7,
      EBCDIC…): no browser sends one. Django reads a URL-encoded body only as UTF-8.
    - A form body Django refuses to parse (any charset but UTF-8 on a URL-encoded body, too many
      fields, too large, a broken multipart body). Left to the views, the refusal is raised
      again while the CSRF check of Django's own error page reads the body, and the server
      answers 500 with an empty page (issue 7). Parsed here once, the refusal is a 400.
    - A NUL character in the query string: PostgreSQL refuses NUL in any string, so a filter or
      a search with one (`?status__exact=%00`) would fail in the database. Forms already refuse
      NUL in what they read (Django's ProhibitNullCharactersValidator).

    It sits after the authentication middleware, so that the page has the usual layout.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._is_bad(request):
            return render(request, "400.html", status=400)
        return self.get_response(request)

    @staticmethod
    def _is_bad(request) -> bool:
        if request.content_type in _FORM_CONTENT_TYPES:
            charset = request.content_params.get("charset")
            if charset and not is_ascii_compatible(charset.strip().lower()):
                return True
            if request.method == "POST":
                try:
                    request.POST  # noqa: B018 (parsed here, once, so that a refusal is ours)
                except (BadRequest, SuspiciousOperation, MultiPartParserError):
                    return True
        try:
            return _has_nul(request.GET)
        except SuspiciousOperation:  # more parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS
            return True


class NoStoreForSignedInMiddleware:
    """Nothing shown to a signed-in person is kept by the browser or a cache on the way.

    Library terminals are shared: the back button or the browser's cache must not show the next
    person a reader's requests, profile or notices. The rule is simply every response to a
    signed-in user (staff and the admin included), so that pages added later are covered too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class AuditActorMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware (the signed-in user is the actor of every change logged),
    with the client's address read as the login throttle reads it.

    auditlog takes the first entry of X-Forwarded-For, which any client writes itself; the
    gateway trusts that header only as far as TRUSTED_PROXY_COUNT / TRUSTED_CLIENT_IP_HEADER say
    (allauth's client-address rule), and never a client's X-Forwarded-Port.
    """

    @staticmethod
    def _get_remote_addr(request):
        try:
            return get_adapter(request).get_client_ip(request)
        # No address at all, or fewer X-Forwarded-For entries than TRUSTED_PROXY_COUNT (a
        # request that did not come through the proxy): the change is recorded without one.
        except (PermissionDenied, ImproperlyConfigured):
            return None

    @staticmethod
    def _get_remote_port(request):
        return None


class PublicAccountMiddleware:
    """The public account's guests stay out of what belongs to one person.

    The account is shared: its password, profile and language are not any one guest's to
    change, and it has no prepaid account (帐户管理) and no old system's data (旧版系统数据查询).
    Those pages answer 403 with the reason; the readers' request pages lead to the guest's own.
    """

    REFUSED = frozenset(
        {
            "profile",
            "account",
            "account_statement",
            "account_statement_csv",
            "account_receipt",
            "legacy_data",
            # The linking wizard: an old account never becomes the shared account's.
            "account_legacy",
            "legacy_link_old_account",
            "legacy_link_confirm",
            "legacy_attach",
            "account_change_password",
            "account_set_password",
            "account_email",
            "account_reset_password",
            "account_reauthenticate",
            "request_detail",
            "request_cancel",
            "request_ask_cancellation",
            "request_accept_quote",
            "request_decline_quote",
            "request_copy",
        }
    )
    LEADS_TO = {
        "request_submit": "guest_submit",
        "request_list": "guest_list",
        "openurl": "guest_openurl",
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        name = match.url_name if match else None
        if name is None or not is_guest(request):
            return None
        if name in self.LEADS_TO:
            query = request.META.get("QUERY_STRING", "")
            return redirect(reverse(self.LEADS_TO[name]) + (f"?{query}" if query else ""))
        if name in self.REFUSED:
            return render(request, "accounts/public_account_refused.html", status=403)
        return None
