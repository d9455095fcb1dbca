"""The development IdP's sign-in page: pick a demo identity instead of typing a password."""

from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model, login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .identities import DEMO_IDENTITIES


def sign_in(request):
    next_url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = reverse("dev_idp_index")
    if request.method == "POST":
        user = (
            get_user_model()
            .objects.filter(username=request.POST.get("identity", ""), is_active=True)
            .first()
        )
        if user is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(next_url)
    created = set(
        get_user_model()
        .objects.filter(username__in=[identity.sub for identity in DEMO_IDENTITIES])
        .values_list("username", flat=True)
    )
    return render(
        request,
        "dev_idp/sign_in.html",
        {"identities": [i for i in DEMO_IDENTITIES if i.sub in created], "next": next_url},
        # A POST that reaches here named no identity of this IdP.
        status=400 if request.method == "POST" else 200,
    )


def index(request):
    return render(request, "dev_idp/index.html")
