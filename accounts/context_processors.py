"""Template context: whether this browser is a guest of the public account (no query)."""

from .public import is_guest


def guest(request):
    return {"guest_session": is_guest(request)}
