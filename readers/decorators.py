"""Access to reader pages: who may use the ILL service, and the explanation for who may not."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import ReaderStatus


def confirmed_reader_required(view):
    """Let confirmed readers in; tell everyone else, signed in, why not (HTTP 403)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        reader = getattr(request.user, "reader", None)
        if reader is None or reader.status != ReaderStatus.CONFIRMED:
            return render(request, "readers/not_confirmed.html", {"profile": reader}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def reader_required(view):
    """Any reader, confirmed or not (the profile page); staff without a profile are told so."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if getattr(request.user, "reader", None) is None:
            return render(request, "readers/not_confirmed.html", {"profile": None}, status=403)
        return view(request, *args, **kwargs)

    return wrapper
