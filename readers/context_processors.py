"""Template context every page needs: the signed-in person's reader profile and its state."""

from django.conf import settings


def reader(request):
    user = getattr(request, "user", None)
    profile = getattr(user, "reader", None) if user and user.is_authenticated else None
    unread = 0
    if profile is not None:
        unread = profile.notices.published().filter(read_at__isnull=True).count()
    return {
        "reader": profile,
        "unread_notice_count": unread,
        "library_name": settings.LIBRARY_NAME,
    }
