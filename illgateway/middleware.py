"""Error answers that Django gives without a page, given one in the portal's layout."""

from django.shortcuts import render


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
