"""What every ModelAdmin of the gateway shares: clean text in its forms, change lists that never
answer 500 to a filter value, bulk actions that report on each row."""

from collections.abc import Callable, Iterable

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList

from .audit import AuditHistoryMixin
from .forms import CleanTextModelForm


class RobustChangeList(ChangeList):
    """Django's change list, with the date hierarchy's arithmetic errors seen as bad input.

    Django reads `?<field>__year=…&__month=…&__day=…` into a datetime and catches ValueError,
    but a year like 2147483648 raises OverflowError, and year 9999 fails when it computes the
    end of the range, outside the try. Both are a bad parameter, which the admin answers by
    showing the unfiltered list with its "?e=1" notice, as for any other bad filter.
    """

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class GatewayAdminMixin(AuditHistoryMixin):
    """Put before admin.ModelAdmin (or an inline class) in every admin of the gateway.

    Its "History" page is the object's audit trail (core.audit).
    """

    # Text typed in the admin loses invisible characters (core.text), as in the reader's forms.
    form = CleanTextModelForm

    def get_changelist(self, request, **kwargs):
        return RobustChangeList


def apply_to_each_row(
    modeladmin,
    request,
    rows: Iterable,
    act: Callable[[object], object],
    *,
    refused: type[Exception] | tuple[type[Exception], ...],
    done_message: str,
    **params,
) -> int:
    """A bulk action's loop: try `act(row)` on each selected row, and return how many succeeded.

    A row the rules refuse (`act` raises `refused`) is left as it was, and its reason shown as a
    warning; the others go on. If any succeeded, `done_message % {"count": n, **params}` is
    shown as a success.
    """
    done = 0
    for row in rows:
        try:
            act(row)
        except refused as exc:
            modeladmin.message_user(request, str(exc), messages.WARNING)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message % {"count": done, **params}, messages.SUCCESS)
    return done
