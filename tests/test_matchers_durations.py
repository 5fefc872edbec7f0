"""Unit tests of the matcher syntax (alertui/matchers.py) and durations (alertui/durations.py).

These are what an on-call engineer types into the filter box, a pre-fill link or the duration
field, so each test is phrased as "what they type" -> "what they get" (or the message they see).
"""

from datetime import timedelta

import pytest

from alertui.durations import DurationError, format_duration, parse_duration
from alertui.matchers import (
    Matcher,
    MatcherError,
    format_matchers,
    matches_all,
    parse_filter,
    parse_matchers,
    validate_silence_matchers,
)

# -- parsing -------------------------------------------------------------------------------


def test_it_parses_matchers_with_and_without_braces_the_same():
    expected = [Matcher("alertname", "=", "DiskFull"), Matcher("job", "=~", "node.*")]
    assert parse_matchers('{alertname="DiskFull", job=~"node.*"}') == expected
    assert parse_matchers('alertname="DiskFull", job=~"node.*"') == expected
    assert parse_matchers('  { alertname = "DiskFull" job=~"node.*" }  ') == expected


@pytest.mark.parametrize(
    ("text", "op"),
    [('a="b"', "="), ('a!="b"', "!="), ('a=~"b"', "=~"), ('a!~"b"', "!~")],
)
def test_it_parses_each_of_the_four_operators(text, op):
    assert parse_matchers(text) == [Matcher("a", op, "b")]


def test_it_reads_an_unquoted_value_as_alertmanager_does():
    assert parse_matchers("severity=critical, team!=db") == [
        Matcher("severity", "=", "critical"),
        Matcher("team", "!=", "db"),
    ]


def test_it_keeps_commas_spaces_and_braces_inside_quoted_values():
    assert parse_matchers('summary="disk full, on /var", path="{a b}", x="y"') == [
        Matcher("summary", "=", "disk full, on /var"),
        Matcher("path", "=", "{a b}"),
        Matcher("x", "=", "y"),
    ]


def test_it_unescapes_quotes_and_backslashes_in_quoted_values():
    assert parse_matchers(r'msg="say \"hi\""') == [Matcher("msg", "=", 'say "hi"')]
    assert parse_matchers(r'path="C:\\temp"') == [Matcher("path", "=", "C:\\temp")]
    # A regex escape that is not a string escape is kept as typed.
    assert parse_matchers(r'instance=~"node\d+"') == [Matcher("instance", "=~", r"node\d+")]


def test_it_returns_no_matchers_for_empty_text():
    assert parse_matchers("") == []
    assert parse_matchers("{}") == []
    assert parse_filter("  ") == ([], [])


def test_it_separates_free_words_from_matchers_in_a_filter():
    matchers, words = parse_filter('severity="critical" disk full')
    assert matchers == [Matcher("severity", "=", "critical")]
    assert words == ["disk", "full"]


def test_it_refuses_free_words_where_only_matchers_are_allowed_and_says_how_to_write_one():
    with pytest.raises(MatcherError) as caught:
        parse_matchers('alertname="DiskFull" disk')
    message = str(caught.value)
    assert "'disk'" in message
    assert 'name="value"' in message
    assert "=~" in message


def test_it_refuses_an_unknown_operator_with_an_explanation():
    with pytest.raises(MatcherError) as caught:
        parse_matchers('severity>"3"')
    assert "=, !=, =~, !~" in str(caught.value)
    with pytest.raises(MatcherError, match="unknown operator '<>'"):
        Matcher("a", "<>", "b")


def test_it_says_a_quote_is_missing_when_a_quoted_value_is_not_closed():
    with pytest.raises(MatcherError, match="(?i)quote"):
        parse_matchers('alertname="DiskFull')


def test_it_does_not_turn_an_unclosed_quote_in_a_filter_into_an_empty_matcher():
    with pytest.raises(MatcherError):
        parse_filter('alertname="Disk')


# -- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["alertname", "_private", "job2", "A_b_C"])
def test_it_accepts_classic_label_names(name):
    assert parse_matchers(f'{name}="x"') == [Matcher(name, "=", "x")]


@pytest.mark.parametrize("name", ["foo-bar", "1st", "foo.bar", "föö"])
def test_it_rejects_label_names_alertmanager_025_would_refuse(name):
    with pytest.raises(MatcherError) as caught:
        parse_matchers(f'{name}="x"')
    message = str(caught.value)
    assert f"invalid label name {name!r}" in message
    assert "letters, digits and underscores" in message


def test_it_can_parse_without_validating_for_prefill():
    # A pre-fill link with a bad name still fills the form, so the user can fix it there.
    assert parse_matchers('foo-bar="x"', validate=False) == [Matcher("foo-bar", "=", "x")]


def test_it_rejects_a_regex_that_does_not_compile_with_re2s_reason():
    with pytest.raises(MatcherError) as caught:
        parse_matchers('job=~"node("')
    message = str(caught.value)
    assert "invalid regular expression 'node('" in message
    assert "missing )" in message


def test_it_rejects_a_backreference_that_go_regexp_does_not_support():
    # Python's re accepts (a)\1; Alertmanager's Go regexp (RE2 syntax) does not.
    with pytest.raises(MatcherError, match="invalid regular expression"):
        parse_matchers(r'a=~"(a)\1"')


def test_it_validates_regexes_in_filters_too():
    with pytest.raises(MatcherError, match="invalid regular expression"):
        parse_filter('job=~"[" disk')


def test_it_does_not_compile_the_value_of_an_equality_matcher_as_a_regex():
    assert parse_matchers('a="("') == [Matcher("a", "=", "(")]


# -- matching ------------------------------------------------------------------------------


def test_it_anchors_regexes_at_both_ends_as_alertmanager_does():
    m = Matcher("a", "=~", "b")
    assert m.matches({"a": "b"})
    assert not m.matches({"a": "ab"})
    assert not m.matches({"a": "ba"})
    # The anchor wraps the whole alternation, not just its first and last branch.
    alternation = Matcher("a", "=~", "x|y")
    assert alternation.matches({"a": "y"})
    assert not alternation.matches({"a": "xz"})
    assert not alternation.matches({"a": "zy"})


def test_it_negates_for_the_not_operators():
    labels = {"severity": "critical"}
    assert Matcher("severity", "=", "critical").matches(labels)
    assert not Matcher("severity", "!=", "critical").matches(labels)
    assert Matcher("severity", "!=", "warning").matches(labels)
    assert Matcher("severity", "=~", "crit.*").matches(labels)
    assert not Matcher("severity", "!~", "crit.*").matches(labels)
    assert Matcher("severity", "!~", "warn.*").matches(labels)


def test_it_treats_a_missing_label_as_the_empty_string():
    no_team = {"alertname": "DiskFull"}
    assert Matcher("team", "=", "").matches(no_team)
    assert not Matcher("team", "=", "db").matches(no_team)
    assert Matcher("team", "!=", "db").matches(no_team)
    assert Matcher("team", "=~", "db|").matches(no_team)
    assert not Matcher("team", "=~", "db").matches(no_team)
    assert not Matcher("team", "=", "").matches({"team": "db"})


def test_it_needs_every_matcher_to_match():
    matchers = parse_matchers('alertname="DiskFull", instance=~"node-[0-9]+"')
    assert matches_all(matchers, {"alertname": "DiskFull", "instance": "node-12"})
    assert not matches_all(matchers, {"alertname": "DiskFull", "instance": "db-1"})
    assert not matches_all(matchers, {"instance": "node-12"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('a=""', True),
        ('a=~".*"', True),
        ('a=~"x|"', True),
        ('a!="x"', True),
        ('a!~".+"', True),
        ('a="x"', False),
        ('a=~".+"', False),
        ('a!=""', False),
        ('a!~".*"', False),
    ],
)
def test_it_knows_which_matchers_match_the_empty_string(text, expected):
    (matcher,) = parse_matchers(text)
    assert matcher.matches_empty() is expected


def test_it_refuses_a_silence_without_matchers():
    with pytest.raises(MatcherError, match="Add at least one matcher"):
        validate_silence_matchers([])


def test_it_refuses_a_silence_whose_matchers_all_match_the_empty_string():
    with pytest.raises(MatcherError, match="would mute everything"):
        validate_silence_matchers(parse_matchers('a="", b=~".*"'))
    # One matcher that needs a value is enough.
    validate_silence_matchers(parse_matchers('a="", b=~".+"'))


# -- formatting ----------------------------------------------------------------------------

ROUND_TRIP_VALUES = [
    "plain",
    "",
    "with space",
    "comma, inside",
    'a "quoted" word',
    "back\\slash",
    r"node\d+",
    "{braces}",
    "ünïcødé ✓",
    "line\nbreak",
    "tab\there",
]


@pytest.mark.parametrize("op", ["=", "!=", "=~", "!~"])
@pytest.mark.parametrize("value", ROUND_TRIP_VALUES)
def test_it_reads_back_what_it_formats(op, value):
    matcher = Matcher("label_1", op, value)
    assert parse_matchers(str(matcher)) == [matcher]


def test_it_formats_matchers_as_alertmanager_writes_them():
    matchers = [Matcher("alertname", "=", "DiskFull"), Matcher("job", "!~", 'a"b')]
    assert format_matchers(matchers) == 'alertname="DiskFull", job!~"a\\"b"'
    assert parse_matchers(format_matchers(matchers)) == matchers
    assert parse_matchers("{" + format_matchers(matchers) + "}") == matchers


@pytest.mark.parametrize("op", ["=", "!=", "=~", "!~"])
def test_it_converts_each_operator_to_and_from_the_api_form(op):
    matcher = Matcher("a", op, "b")
    api = matcher.to_api()
    assert api["isRegex"] is (op in ("=~", "!~"))
    assert api["isEqual"] is (op in ("=", "=~"))
    assert Matcher.from_api(api) == matcher


def test_it_reads_an_api_matcher_without_is_equal_as_equal():
    # Alertmanager before 0.22 had no isEqual field.
    assert Matcher.from_api({"name": "a", "value": "b", "isRegex": True}) == Matcher("a", "=~", "b")


# -- durations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("2h", timedelta(hours=2)),
        ("1d 4h", timedelta(days=1, hours=4)),
        ("1w", timedelta(weeks=1)),
        ("1.5h", timedelta(minutes=90)),
        ("30s", timedelta(seconds=30)),
        ("1h30m", timedelta(minutes=90)),
        (" 2H ", timedelta(hours=2)),
        ("1w 2d 3h 4m 5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
    ],
)
def test_it_parses_durations_people_type(text, expected):
    assert parse_duration(text) == expected


def test_it_asks_for_a_duration_when_none_is_given():
    for empty in ("", "   ", None):
        with pytest.raises(DurationError, match="Enter a duration such as 90m, 2h"):
            parse_duration(empty)


@pytest.mark.parametrize("text", ["abc", "5", "soon", "2h soon", "-1h", "h", "1y"])
def test_it_rejects_text_that_is_not_a_duration_and_shows_examples(text):
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    message = str(caught.value)
    assert f"{text.strip().lower()!r} is not a duration" in message
    assert "units w, d, h, m or s" in message


@pytest.mark.parametrize("text", ["0m", "0h 0s", "0.0d"])
def test_it_rejects_a_zero_duration(text):
    with pytest.raises(DurationError, match="longer than zero"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(days=1, hours=4), "1d 4h"),
        (timedelta(hours=2, minutes=30), "2h 30m"),
        (timedelta(hours=2), "2h"),
        (timedelta(seconds=45), "45s"),
        (timedelta(weeks=1), "7d"),
        (timedelta(days=30), "30d"),
        (timedelta(days=1, minutes=5), "1d 5m"),
        (timedelta(days=1, hours=4, minutes=30), "1d 4h"),  # the two largest units only
        (timedelta(seconds=90.7), "1m 30s"),
        (timedelta(0), "0s"),
        (timedelta(seconds=-5), "0s"),
    ],
)
def test_it_formats_durations_compactly(delta, expected):
    assert format_duration(delta) == expected


@pytest.mark.parametrize("text", ["90m", "2h", "1d 4h", "1w", "45s", "3d 12h"])
def test_it_reads_back_a_formatted_duration(text):
    delta = parse_duration(text)
    assert parse_duration(format_duration(delta)) == delta
