"""A template's fields, checked as a silence's are (alertui.matchers, silences.validation):
every field is typed by a person and shown to everyone who uses the template."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError

from alertui.durations import DurationError, format_duration, parse_duration
from alertui.matchers import Matcher, MatcherError, parse_matchers, validate_silence_matchers
from alertui.silence_templates.models import NAME_MAX

MAX_MATCHERS = 50
MAX_MATCHERS_TEXT = 5000
MAX_COMMENT = 10000


def clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError("Give the template a name.")
    if len(name) > NAME_MAX:
        raise ValidationError(f"At most {NAME_MAX} characters.")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise ValidationError(
            "A name is one line of text, without line breaks or control characters."
        )
    return name


def clean_matchers(text: str) -> list[Matcher]:
    if len(text) > MAX_MATCHERS_TEXT:
        raise ValidationError(f"At most {MAX_MATCHERS_TEXT} characters of matchers.")
    try:
        matchers = parse_matchers(text, validate=True)
        if len(matchers) > MAX_MATCHERS:
            raise MatcherError(f"At most {MAX_MATCHERS} matchers.")
        validate_silence_matchers(matchers)
    except MatcherError as e:
        raise ValidationError(str(e)) from None
    return matchers


def clean_duration(text: str) -> str:
    text = " ".join(text.split())
    try:
        duration = parse_duration(text)
    except DurationError as e:
        raise ValidationError(str(e)) from None
    maximum = timedelta(seconds=settings.SILENCE_MAX_DURATION)
    if duration > maximum:
        raise ValidationError(
            f"A silence may last at most {format_duration(maximum)}; shorten it or ask an "
            "administrator to raise SILENCE_MAX_DURATION."
        )
    return text


def clean_comment(text: str) -> str:
    if len(text) > MAX_COMMENT:
        raise ValidationError(f"At most {MAX_COMMENT} characters.")
    if any(unicodedata.category(c) == "Cc" and c not in "\r\n\t" for c in text):
        raise ValidationError("The comment holds control characters; remove them.")
    return text.strip()
