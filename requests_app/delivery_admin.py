"""Staff's side of electronic delivery on the request's admin page: the module that shows the
delivered file and its downloads, and the page that attaches a PDF and delivers the request.

Kept apart from admin.py, which only adds the URL (`delivery_urls`) and the change page's
context (`delivery_context`).
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.forms import CleanTextFormMixin

from .delivery import DeliveryError, delivery_attach, delivery_attachable, pdf_problem
from .lifecycle import TransitionError
from .models import Delivery, IllRequest, StatusChange
from .statuses import Status


class DeliveryForm(CleanTextFormMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("PDF file"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the reader (optional)"),
        max_length=StatusChange._meta.get_field("note").max_length,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "Checked by its content: a PDF of up to %(limit)d MB. The reader may download it "
            "%(downloads)d times within %(days)d days, after accepting the copyright statement."
        ) % {
            "limit": settings.DELIVERY_MAX_MB,
            "downloads": settings.DELIVERY_MAX_DOWNLOADS,
            "days": settings.DELIVERY_DAYS,
        }

    def clean_file(self):
        upload = self.cleaned_data["file"]
        problem = pdf_problem(upload)
        if problem:
            raise forms.ValidationError(problem)
        return upload


def delivery_context(ill_request: IllRequest) -> dict:
    """What the request's change page shows of its electronic delivery."""
    delivery = Delivery.objects.filter(request=ill_request).select_related("delivered_by").first()
    return {
        "delivery": delivery,
        "delivery_attachable": delivery is None and delivery_attachable(ill_request),
    }


def _attached_message(ill_request: IllRequest) -> tuple[str, int]:
    """What staff are told once the file is kept: delivered, or waiting for the payment (a
    reader's prepaid balance, or a guest's payment recorded on the request's page)."""
    number = {"number": ill_request.number}
    if ill_request.status == Status.DELIVERED:
        if ill_request.is_guest:
            text = _(
                "Request %(number)s is delivered: the guest is e-mailed the request's private "
                "link, from which they download the file."
            )
        else:
            text = _("Request %(number)s is delivered: the reader is e-mailed a link to the file.")
        return text % number, messages.SUCCESS
    if ill_request.is_guest:
        text = _(
            "The file is kept, but request %(number)s is awaiting payment: the guest has not paid "
            "its total yet. Record the guest's payment on the request's page; the guest can "
            "download the file once the request is paid and delivered."
        )
    else:
        text = _(
            "The file is kept, but request %(number)s is awaiting payment: the "
            "reader's balance does not cover its total. The reader can download the "
            "file once the request is paid and delivered."
        )
    return text % number, messages.WARNING


def delivery_view(modeladmin, request, pk):
    """Attach a PDF to a copy request and deliver it (one page, like the transition page)."""
    ill_request = get_object_or_404(IllRequest, pk=pk)
    if not modeladmin.has_change_permission(request, ill_request):
        raise PermissionDenied
    change_url = reverse("admin:requests_app_illrequest_change", args=[pk])
    if Delivery.objects.filter(request=ill_request).exists() or not delivery_attachable(
        ill_request
    ):
        modeladmin.message_user(
            request,
            _(
                "Request %(number)s cannot take a file now (only a copy request that is delivered "
                "or may be delivered, once)."
            )
            % {"number": ill_request.number},
            messages.WARNING,
        )
        return redirect(change_url)
    form = DeliveryForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            delivery = delivery_attach(
                ill_request=ill_request,
                upload=form.cleaned_data["file"],
                actor=request.user,
                note=form.cleaned_data["note"],
            )
        except (DeliveryError, TransitionError) as exc:
            form.add_error("file", str(exc))
        else:
            modeladmin.message_user(request, *_attached_message(delivery.request))
            return redirect(change_url)
    return TemplateResponse(
        request,
        "admin/requests_app/illrequest/deliver.html",
        {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.opts,
            "original": ill_request,
            "form": form,
            "title": _("Deliver request %(number)s as a PDF") % {"number": ill_request.number},
        },
    )


def delivery_urls(modeladmin) -> list:
    info = modeladmin.opts.app_label, modeladmin.opts.model_name
    return [
        path(
            "<int:pk>/deliver/",
            modeladmin.admin_site.admin_view(
                lambda request, pk: delivery_view(modeladmin, request, pk)
            ),
            name="{}_{}_deliver".format(*info),
        ),
    ]
