# The system's history notes, stored until now as text in the reader's language, become events
# (a code and parameters) that are shown in each viewer's language. Staff's notes stay as typed.

import re

from django.db import migrations
from django.db.models import Q

# The texts as they were written: the English msgid and its Chinese, as the catalogue had them.
# Kept here, not looked up in the catalogue, so that the migration means the same thing later.
TEXTS = {
    "reader_cancelled": ("Cancelled by the reader.", "读者已取消。"),
    "cancellation_asked": (
        "The reader asked the ILL office to cancel.",
        "读者请求馆际互借处取消此申请。",
    ),
    "cancellation_refused": (
        "The ILL office goes on with the request; it was too late to cancel.",
        "馆际互借处将继续处理此申请，已来不及取消。",
    ),
    "quote_accepted": (
        "The reader accepted the quoted cost of %(quote)s yuan.",
        "读者已接受报价 %(quote)s 元。",
    ),
    "quote_declined": ("The reader declined the quoted cost.", "读者拒绝了报价。"),
    "expired": (
        "Not processed by the valid-until date %(date)s.",
        "在有效时间 %(date)s 之前未被处理。",
    ),
}
# Added after the event when the change waived the urgent surcharge (nothing to convert forward).
SURCHARGE_WAIVED = (
    "The urgent surcharge of %(surcharge_waived)s yuan is not charged.",
    "加急费 %(surcharge_waived)s 元不予收取。",
)
PARAM_PATTERNS = {"quote": r"(?P<quote>\d+(?:\.\d+)?)", "date": r"(?P<date>\d{4}-\d{2}-\d{2})"}
# The status an event leaves the request in; None: the status stays as it was.
TO_STATUS = {
    "reader_cancelled": "cancelled",
    "cancellation_asked": None,
    "cancellation_refused": None,
    "quote_accepted": "in_process",
    "quote_declined": "cancelled",
    "expired": "expired",
}


def _pattern(text):
    escaped = re.escape(text)
    for name, pattern in PARAM_PATTERNS.items():
        escaped = escaped.replace(re.escape(f"%({name})s"), pattern)
    return re.compile(escaped)


PATTERNS = [(event, _pattern(text)) for event, texts in TEXTS.items() for text in texts]


def _event_of(change):
    """(event, params, staff's note) for `change`, or None where the note is staff's own."""
    note = change.note.strip()
    same_status = change.from_status == change.to_status
    for event, pattern in PATTERNS:
        match = pattern.fullmatch(note)
        if match is None:
            continue
        expected = TO_STATUS[event]
        if (expected is None and same_status) or (
            expected == change.to_status and not same_status
        ):
            return event, match.groupdict(), ""
    # Only two kinds of entry ever kept the status: a cancellation asked for (its text is
    # matched above) and one refused, whose note, when not the system's, was staff's words.
    if same_status and change.from_status:
        return "cancellation_refused", {}, change.note
    return None


def notes_to_events(apps, schema_editor):
    StatusChange = apps.get_model("requests_app", "StatusChange")
    changed = []
    for change in StatusChange.objects.filter(event="").exclude(note="").iterator():
        found = _event_of(change)
        if found is None:
            continue
        change.event, change.params, change.note = found
        changed.append(change)
    StatusChange.objects.bulk_update(changed, ["event", "params", "note"], batch_size=500)


def events_to_notes(apps, schema_editor):
    """Back to text, in the reader's language, as the notes were written before."""
    StatusChange = apps.get_model("requests_app", "StatusChange")
    changed = []
    with_words = ~Q(event="") | Q(params__has_key="surcharge_waived")
    for change in (
        StatusChange.objects.filter(with_words).select_related("request__reader").iterator()
    ):
        # A refusal with staff's words had only those words: the note stays as it is.
        if not (change.event == "cancellation_refused" and change.note):
            chinese = not (change.request.reader.language or "zh-hans").startswith("en")
            texts = [TEXTS[change.event]] if change.event else []
            if "surcharge_waived" in change.params:
                texts.append(SURCHARGE_WAIVED)
            parts = [text[chinese] % change.params for text in texts]
            change.note = "\n".join([*parts, change.note] if change.note else parts)
        change.event = ""
        change.params = {}
        changed.append(change)
    StatusChange.objects.bulk_update(changed, ["event", "params", "note"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0003_statuschange_event"),
        ("readers", "0002_reader_language"),
    ]

    operations = [migrations.RunPython(notes_to_events, events_to_notes)]
