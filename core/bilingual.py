"""Text kept in Chinese and English, shown in the reader's language (or in the other one where
only that exists): notices, the staff-edited pages, and whatever the office writes for readers."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# The longest body, in characters. Every text field has a limit, checked by its form (Django
# does not check a TextField's in the database).
BODY_MAX = 20_000


def in_language(zh: str, en: str) -> str:
    """The text in the active language, or in the other one where only that exists."""
    if (get_language() or "").startswith("en"):
        return en or zh
    return zh or en


def language_of(zh: str, en: str) -> str:
    """The HTML language code of what `in_language` shows, for its `lang` attribute."""
    if (get_language() or "").startswith("en"):
        return "en" if en else "zh-Hans"
    return "zh-Hans" if zh else "en"


class BilingualText(models.Model):
    """A title and a body in both languages; `title` and `body` are the one to show."""

    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    body_zh = models.TextField(_("text (Chinese)"), max_length=BODY_MAX, blank=True)
    body_en = models.TextField(_("text (English)"), max_length=BODY_MAX, blank=True)

    class Meta:
        abstract = True

    @property
    def title(self):
        return in_language(self.title_zh, self.title_en)

    @property
    def body(self):
        return in_language(self.body_zh, self.body_en)

    @property
    def title_lang(self):
        return language_of(self.title_zh, self.title_en)

    @property
    def body_lang(self):
        return language_of(self.body_zh, self.body_en)
