"""The request form (提交申请), grouped as the seed groups it."""

import re
import secrets

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance
from django.forms.widgets import Input
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.forms import FIRST_YEAR, LAST_YEAR, CleanTextFormMixin
from core.validators import normalize_phone, normalize_postal_code, to_halfwidth

from .models import (
    FEE_PAGES_MAX,
    REQUEST_FIELD_GROUPS,
    REQUEST_FIELDS,
    TYPES_WITH_ARTICLE_TITLE,
    IllRequest,
    Status,
)
from .validators import (
    IDENTIFIER_MAX_INPUT,
    normalize_doi,
    normalize_isbn,
    normalize_issn,
    normalize_pages,
    normalize_volume_issue,
    normalize_year,
)


def _attrs_html(attrs: dict) -> str:
    """django/forms/widgets/attrs.html in Python: ` name="value"`, bare for True, none for False."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _render_input(widget, name, value, attrs=None, renderer=None):
    """The markup of django/forms/widgets/input.html, without a template per field.

    The request form's 25 text-like inputs were a third of its rendering time (issue 14).
    """
    context = widget.get_context(name, value, attrs)["widget"]
    value_html = (
        format_html(' value="{}"', str(context["value"])) if context["value"] is not None else ""
    )
    return mark_safe(
        format_html('<input type="{}" name="{}"', context["type"], context["name"])
        + value_html
        + _attrs_html(context["attrs"])
        + ">"
    )


def _render_textarea(widget, name, value, attrs=None, renderer=None):
    """The markup of django/forms/widgets/textarea.html, without a template."""
    context = widget.get_context(name, value, attrs)["widget"]
    return mark_safe(
        format_html('<textarea name="{}"', context["name"])
        + _attrs_html(context["attrs"])
        + ">\n"
        + (conditional_escape(context["value"]) if context["value"] else "")
        + "</textarea>"
    )


def _render_select(widget, name, value, attrs=None, renderer=None):
    """The markup of django/forms/widgets/select.html and select_option.html, without the
    template per option (a status filter is 11 options, each an include of two templates)."""
    context = widget.get_context(name, value, attrs)["widget"]
    parts = [format_html('<select name="{}"', context["name"]), _attrs_html(context["attrs"]), ">"]
    for group_name, group_choices, _index in context["optgroups"]:
        if group_name:
            parts.append(format_html('\n  <optgroup label="{}">', group_name))
        for option in group_choices:
            parts += [
                format_html('\n  <option value="{}"', str(option["value"])),
                _attrs_html(option["attrs"]),
                format_html(">{}</option>\n", option["label"]),
            ]
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))


def render_widgets_directly(form) -> None:
    """Render the form's text-like inputs, textareas and plain selects in Python (the same
    markup as Django's templates)."""
    for field in form.fields.values():
        widget = field.widget
        if type(widget) is forms.Select:
            widget.render = _render_select.__get__(widget)
        elif isinstance(widget, forms.Textarea):
            widget.render = _render_textarea.__get__(widget)
        elif isinstance(widget, Input) and widget.input_type not in ("radio", "checkbox"):
            widget.render = _render_input.__get__(widget)


# (slug, legend, fields) in the seed's order: 申请信息, 文献信息, 馆际互借信息, 用户信息, 备注.
GROUPS = [
    (slug, legend, REQUEST_FIELD_GROUPS[slug])
    for slug, legend in [
        ("request", pgettext_lazy("request form group", "Request")),
        ("document", pgettext_lazy("request form group", "Document")),
        ("ill", pgettext_lazy("request form group", "ILL options")),
        ("contact", pgettext_lazy("request form group", "Contact")),
        ("remarks", pgettext_lazy("request form group", "Remarks")),
    ]
]

_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_token() -> str:
    return secrets.token_urlsafe(24)


class IllRequestForm(CleanTextFormMixin, forms.ModelForm):
    # One per form shown: submitting the same form twice gives one request.
    token = forms.CharField(widget=forms.HiddenInput, required=False)
    # Typed identifiers carry spaces, hyphens and labels ("ISSN 0264-1615"); the model stores
    # the normalised, shorter form.
    issn = forms.CharField(label="ISSN", max_length=IDENTIFIER_MAX_INPUT, required=False)
    isbn = forms.CharField(label="ISBN", max_length=IDENTIFIER_MAX_INPUT, required=False)
    fee_pages = forms.IntegerField(
        label=_("Number of pages for the fee"),
        min_value=1,
        max_value=FEE_PAGES_MAX,
        required=False,
        help_text=_("Number of pages to be charged."),
        widget=forms.NumberInput(attrs={"min": "1"}),
    )

    class Meta:
        model = IllRequest
        fields = REQUEST_FIELDS
        labels = {
            "contact_email": _("E-mail"),
            "contact_phone": _("Phone"),
            "contact_name": _("Name"),
            "contact_address": _("Postal address"),
            "contact_postal_code": _("Postal code"),
            "contact_fax": _("Fax"),
            "calis_oid": "CALIS-OID",
            # Not "Remarks" again under the group's heading "Remarks" (issue 14).
            "remarks": _("Anything else the ILL office should know"),
        }
        help_texts = {
            "volume_issue": _("For example 32(2): volume 32, issue 2."),
            "article_title": _(
                "The article's, paper's or chapter's own title; required for those types."
            ),
            "pages": _("For example 94-101."),
            "year": _("For example 2004."),
            "doi": _("For example 10.1108/02641610410538478."),
            "valid_until": _(
                "YYYY-MM-DD. A request not processed by then ends by itself as expired."
            ),
            "max_cost": _("In yuan: the most you will pay for this request, 0 or more."),
        }
        widgets = {
            "service_type": forms.RadioSelect,
            "urgency": forms.RadioSelect,
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "max_cost": forms.NumberInput(attrs={"min": "0", "step": "0.01"}),
            "remarks": forms.Textarea(attrs={"rows": 4}),
            "contact_email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "contact_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "contact_fax": forms.TextInput(attrs={"type": "tel"}),
            "contact_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "contact_postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            # maxlength comes from the model's max_length, as for every text field.
            "year": forms.TextInput(attrs={"inputmode": "numeric"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Radio buttons need no empty choice; the seed preselects "copy" and "normal".
        for name in ("service_type", "urgency"):
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0]]
        self.fields["urgency"].help_text = _(
            "Urgent processing costs you %(amount)s yuan extra per item."
        ) % {"amount": settings.URGENT_SURCHARGE}
        # The limits in words are the model's, not a second copy of them.
        self.fields["user_reference"].help_text = _(
            "Your own reference for this request, at most %(max_length)s characters."
        ) % {"max_length": self.fields["user_reference"].max_length}
        self.fields["contact_address"].help_text = _("At most %(max_length)s characters.") % {
            "max_length": self.fields["contact_address"].max_length
        }
        if not self.is_bound and not self.initial.get("token"):
            self.initial["token"] = new_token()
        render_widgets_directly(self)

    def _post_clean(self):
        """ModelForm's check of the model instance, without the model's constraints.

        Each of IllRequest's eight CHECK constraints costs a query compiled over every field
        of the form (two of them sent to the database) on every submit, most of the submit's
        time (issue 14). None can fail through this form: the two on its fields (service
        type, maximum cost) are the fields' own checks (choices, clean_max_cost), the others
        are on fields it has not (number, status, origin, quote…), and the database keeps
        enforcing all of them. The fields' model validation (clean_fields) still runs.
        """
        try:
            self.instance = construct_instance(
                self, self.instance, self._meta.fields, self._meta.exclude
            )
        except ValidationError as error:
            self._update_errors(error)
        try:
            self.instance.full_clean(
                exclude=self._get_validation_exclusions(),
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            self._update_errors(error)
        if self._validate_unique:
            self.validate_unique()

    @property
    def groups(self):
        """The fields in fieldsets, for the template."""
        return [
            {"slug": slug, "legend": legend, "fields": [self[name] for name in names]}
            for slug, legend, names in GROUPS
        ]

    # The normalisers return what we store and raise the message shown beside the field.

    def _normalized(self, name, normalize):
        value = self.cleaned_data.get(name)
        return normalize(value) if value else value

    def clean_issn(self):
        return self._normalized("issn", normalize_issn)

    def clean_isbn(self):
        return self._normalized("isbn", normalize_isbn)

    def clean_doi(self):
        # What the reader types is at most the model's length, and normalising only shortens it.
        return self._normalized("doi", normalize_doi)

    def clean_year(self):
        return self._normalized("year", normalize_year)

    def clean_pages(self):
        return self._normalized("pages", normalize_pages)

    def clean_volume_issue(self):
        return self._normalized("volume_issue", normalize_volume_issue)

    def clean_contact_phone(self):
        return self._normalized("contact_phone", normalize_phone)

    def clean_contact_fax(self):
        return self._normalized("contact_fax", normalize_phone)

    def clean_contact_postal_code(self):
        return self._normalized("contact_postal_code", normalize_postal_code)

    def clean_contact_email(self):
        return self.cleaned_data["contact_email"].strip().lower()

    def clean_calis_oid(self):
        return to_halfwidth(self.cleaned_data.get("calis_oid", "")).strip()

    def clean_valid_until(self):
        value = self.cleaned_data.get("valid_until")
        if value and value <= timezone.localdate():
            raise ValidationError(
                _("The valid-until date must be in the future."), code="valid_until_past"
            )
        return value

    def clean_max_cost(self):
        value = self.cleaned_data.get("max_cost")
        if value is not None and value < 0:
            raise ValidationError(_("The maximum cost is 0 or more."), code="max_cost_negative")
        return value

    def clean_token(self):
        token = self.cleaned_data.get("token", "")
        # A form without a (well-formed) token gets a fresh one: the request is still made,
        # only the protection against a second click is lost for it.
        return token if _TOKEN_RE.fullmatch(token or "") else new_token()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("document_type") in TYPES_WITH_ARTICLE_TITLE and not cleaned.get(
            "article_title"
        ):
            self.add_error(
                "article_title",
                ValidationError(
                    _("Give the title of the article, paper or chapter itself."),
                    code="article_title_required",
                ),
            )
        return cleaned


def initial_from_reader(reader) -> dict:
    """The contact block, prefilled from the reader's profile."""
    return {
        "contact_name": reader.name,
        "contact_address": reader.address,
        "contact_postal_code": reader.postal_code,
        "contact_email": reader.email,
        "contact_phone": reader.phone,
    }


def initial_from_request(ill_request: IllRequest) -> dict:
    """A re-request: everything the reader typed last time, except the dates."""
    data = {name: getattr(ill_request, name) for name in REQUEST_FIELDS}
    data["valid_until"] = None
    return data


class RequestFilterForm(CleanTextFormMixin, forms.Form):
    q = forms.CharField(label=_("Search by title or number"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *Status.choices],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        render_widgets_directly(self)


class LegacyRequestFilterForm(RequestFilterForm):
    """旧版系统数据查询: search and status as on 申请列表, and a range of request dates."""

    # Old requests go back decades; the years every database stores (core.forms, which checks
    # them) are offered by the date picker.
    DAYS = {"min": f"{FIRST_YEAR}-01-01", "max": f"{LAST_YEAR}-12-31"}

    date_from = forms.DateField(
        label=_("Requested on or after"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", **DAYS}),
    )
    date_to = forms.DateField(
        label=_("Requested on or before"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", **DAYS}),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("This date is before the first date."))
        return data
