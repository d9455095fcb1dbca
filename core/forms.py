"""Forms whose text fields are cleaned of invisible characters before anything else reads them."""

import datetime

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .text import clean_text

FIRST_YEAR, LAST_YEAR = 1900, 2999


def _is_text(field) -> bool:
    # Passwords are taken exactly as typed; a disabled field keeps its initial value anyway.
    return (
        isinstance(field, forms.CharField)
        and not isinstance(field.widget, forms.PasswordInput)
        and not field.disabled
    )


class CleanTextFormMixin:
    """Text fields (not passwords) lose the characters `core.text.clean_text` removes.

    The submitted data itself is cleaned, before validation: the field's checks (lengths,
    ISSN check digits…) see the clean text, and a form shown again with its errors shows it.
    Textareas keep their line breaks. Put the mixin before the form class it extends.

    Dates too are held to what every database stores whatever the time zone (year 1 in Beijing
    is before year 1 in UTC): FIRST_YEAR to LAST_YEAR, said beside the field.
    """

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if isinstance(value, datetime.date) and not FIRST_YEAR <= value.year <= LAST_YEAR:
                self.add_error(name, _("Give a date between 1900 and 2999."))
        return cleaned

    def full_clean(self):
        if self.is_bound:
            self.data = self._data_with_clean_text()
        super().full_clean()

    def _data_with_clean_text(self):
        data = _shallow_copy(self.data)
        for name, field in self.fields.items():
            key = self.add_prefix(name)
            if not _is_text(field) or key not in data:
                continue
            multiline = isinstance(field.widget, forms.Textarea)
            if hasattr(data, "setlist"):
                values = data.getlist(key)
                data.setlist(key, [_clean(value, multiline) for value in values])
            else:
                data[key] = _clean(data[key], multiline)
        return data


def _shallow_copy(data):
    """A mutable copy of the submitted data. QueryDict.copy() deep-copies every value, a third
    of the time of cleaning the request form (issue 14); its values are strings and files,
    which cleaning replaces rather than changes, so copying the lists is enough."""
    if isinstance(data, QueryDict):
        copied = QueryDict(mutable=True, encoding=data.encoding)
        for key, values in data.lists():
            copied.setlist(key, list(values))
        return copied
    return data.copy()


def _clean(value, multiline):
    return clean_text(value, multiline=multiline) if isinstance(value, str) else value


class CleanTextModelForm(CleanTextFormMixin, forms.ModelForm):
    """The admin's model forms (ModelAdmin.form, inlines' form) with clean text."""
