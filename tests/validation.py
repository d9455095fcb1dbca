"""What the validator tests of every app share: the code or message a normaliser raises."""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation

# Values a normaliser must refuse without crashing, whatever the field.
JUNK = [None, 12.5, b"0264-1615", ["0264-1615"], {}, object(), True, "\x00", "\u3000", ""]


def error_code(function, value, **kwargs):
    """The ValidationError code ``function(value)`` raises, or None if it accepts the value."""
    try:
        function(value, **kwargs)
    except ValidationError as error:
        return error.code
    return None


def english_message(function, value, **kwargs):
    if not settings.configured:
        pytest.skip("messages are lazy translations; they need the project settings")
    with pytest.raises(ValidationError) as caught, translation.override("en"):
        function(value, **kwargs)
    with translation.override("en"):
        return caught.value.messages[0]
