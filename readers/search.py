"""Finding readers by what staff type into a search box, on indexes at any number of readers.

A name or an e-mail address is matched anywhere in it (`icontains`: on PostgreSQL the trigram
indexes of readers/migrations/0009 answer it), an ID, campus ID, phone or login name exactly.
Each alternative is its own SELECT joined by UNION, so each uses its own index: one OR across
the reader and the user table would read every row.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q

from .models import Reader

# A search of another table (requests, notices) takes at most this many readers' ids along.
READERS_SEARCHED = 200


def reader_ids_matching(term: str):
    """The ids of the readers `term` names, as one query (a values list to filter with)."""
    term = term.strip()
    by_profile = (
        Reader.objects.filter(
            Q(name__icontains=term)
            | Q(email__icontains=term)
            | Q(id_number=term)
            | Q(campus_id=term)
            | Q(phone=term)
        )
        .order_by()
        .values_list("pk", flat=True)
    )
    users = get_user_model().objects.filter(username=term).order_by().values("pk")
    by_login = Reader.objects.filter(user__in=users).order_by().values_list("pk", flat=True)
    return by_profile.union(by_login)
