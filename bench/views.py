"""The baseline: what any page costs at least on this server and database.

The same middleware and session authentication as every page, one indexed query (the newest 20
requests, on the submitted_at index), and 20 rows rendered by a small template.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template import engines

from requests_app.models import IllRequest

TEMPLATE = engines["django"].from_string(
    "<!doctype html><html lang=en><title>bare</title><table>"
    "{% for r in rows %}<tr><td>{{ r.number }}</td><td>{{ r.publication_title }}</td>"
    "<td>{{ r.status }}</td><td>{{ r.submitted_at|date:'Y-m-d' }}</td></tr>{% endfor %}"
    "</table></html>"
)


@login_required
def bare(request):
    rows = IllRequest.objects.only("number", "publication_title", "status", "submitted_at")
    rows = rows.order_by("-submitted_at", "-number")[:20]
    return HttpResponse(TEMPLATE.render({"rows": rows}, request))
