"""What every ModelAdmin of the gateway shares: clean text in its forms, change lists that never
answer 500 to a filter value."""

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList

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


class GatewayAdminMixin:
    """Put before admin.ModelAdmin (or an inline class) in every admin of the gateway."""

    # Text typed in the admin loses invisible characters (core.text), as in the reader's forms.
    form = CleanTextModelForm

    def get_changelist(self, request, **kwargs):
        return RobustChangeList
