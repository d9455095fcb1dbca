"""Pages the gateway does not offer, though allauth would."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.views import i18n

from readers.services import reader_set_language


def not_offered(request, *args, **kwargs):
    """allauth's e-mail management, account connections and "set a password" pages.

    The reader's e-mail is part of the profile; a campus identity is attached only by its own
    registration; and campus accounts log in through single sign-on, never with a password.
    """
    raise Http404


def set_language(request):
    """Django's language switch, which also remembers the choice for the reader's e-mails."""
    response = i18n.set_language(request)
    language = request.POST.get("language")
    reader = getattr(request.user, "reader", None) if request.user.is_authenticated else None
    if request.method == "POST" and reader is not None and language in dict(settings.LANGUAGES):
        reader_set_language(reader=reader, language=language)
    return response


def csrf_failure(request, reason=""):
    """A rejected form (expired or forged CSRF token), explained in the portal's layout."""
    return render(request, "403_csrf.html", status=403)
