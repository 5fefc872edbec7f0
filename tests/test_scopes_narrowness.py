"""When is a silence inside a scope (alertui/scopes/narrowness.py): every case of the table,
and a search for a silence judged inside that still mutes a label set outside the scope."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alertui.matchers import Matcher, matches_all, parse_matchers
from alertui.scopes.narrowness import inside, uncovered


def judged(scope: str, silence: str) -> bool:
    return inside(parse_matchers(scope), parse_matchers(silence, validate=False))


@pytest.mark.parametrize(
    "scope, silence, expected",
    [
        # equality scope
        ('team="payments"', 'team="payments"', True),  # equal
        ('team="payments"', 'team="payments", service="api"', True),  # narrower
        ('team="payments"', 'service="api"', False),  # wider: no team matcher at all
        ('team="payments"', 'team="checkout"', False),  # another team
        ('team="payments"', 'team=~"pay.*"', False),  # a regex is wider than one value
        ('team="payments"', 'team=~"payments"', True),  # a regex of one plain word is it
        ('team="payments"', 'team!="checkout"', False),  # a negative matcher is wider
        ('team="payments"', 'team!~"check.*"', False),
        # regex scope against equality
        ('namespace=~"shop-.*"', 'namespace="shop-cart"', True),
        ('namespace=~"shop-.*"', 'namespace="shopping"', False),
        ('namespace=~"shop-.*"', 'namespace="my-shop-cart"', False),  # anchored, as in AM
        ('namespace=~"shop-.*"', 'namespace=""', False),
        # regex scope against regex: only the same regex
        ('namespace=~"shop-.*"', 'namespace=~"shop-.*"', True),
        ('namespace=~"shop-.*"', 'namespace=~"shop-cart.*"', False),  # narrower, not proven
        ('namespace=~"shop-.*"', 'namespace=~".*"', False),
        ('namespace=~"shop-.*"', 'namespace!="kube-system"', False),
        ('namespace=~"shop-.*"', 'namespace!~"kube-.*"', False),
        # != scope: everything but one value
        ('team!="core"', 'team="payments"', True),
        ('team!="core"', 'team="core"', False),
        ('team!="core"', 'team=""', True),  # no team label is not team "core"
        ('team!="core"', 'team!="core"', True),
        ('team!="core"', 'team!="infra"', False),  # would mute team "core"
        ('team!="core"', 'team=~"pay.*"', True),
        ('team!="core"', 'team=~"co.*"', False),
        ('team!="core"', 'team!~"core|infra"', True),
        ('team!="core"', 'team!~"infra"', False),
        ('team!="core"', 'team=~"("', False),  # a regex that does not compile is never inside
        ('team!="core"', 'service="api"', False),
        # !~ scope: everything but what a regex matches
        ('team!~"core|infra"', 'team="payments"', True),
        ('team!~"core|infra"', 'team="infra"', False),
        ('team!~"core|infra"', 'team!~"core|infra"', True),
        ('team!~"core|infra"', 'team!~"core"', False),
        ('team!~"core|infra"', 'team!="core"', False),
        ('team!~"core|infra"', 'team=~"pay.*"', False),  # disjoint, but not proven
        ('team!~"core"', 'team!="core"', True),  # a plain word: the same as !=
        # several scope matchers: each needs its own
        ('team="payments", namespace=~"shop-.*"', 'team="payments"', False),
        ('team="payments", namespace=~"shop-.*"', 'team="payments", namespace="shop-a"', True),
    ],
)
def test_it_judges_whether_a_silence_is_inside_a_scope(scope, silence, expected):
    assert judged(scope, silence) is expected


def test_it_names_the_scope_matchers_a_silence_is_wider_than():
    scope = parse_matchers('team="payments", namespace=~"shop-.*"')
    assert [str(m) for m in uncovered(scope, parse_matchers('team="payments"'))] == [
        'namespace=~"shop-.*"'
    ]


# -- no silence judged inside mutes anything outside ---------------------------------------------

VALUES = ["", "a", "b", "ab", "core", "shop-a"]
PATTERNS = ["a", "a|b", "a.*", ".*", "b+", "", "core", "shop-.*", "(a|b)b?"]
NAMES = ["team", "env"]


def matcher_strategy():
    plain = st.builds(
        Matcher, st.sampled_from(NAMES), st.sampled_from(["=", "!="]), st.sampled_from(VALUES)
    )
    regex = st.builds(
        Matcher, st.sampled_from(NAMES), st.sampled_from(["=~", "!~"]), st.sampled_from(PATTERNS)
    )
    return st.one_of(plain, regex)


LABEL_SETS = [
    {k: v for k, v in (("team", t), ("env", e)) if v} for t in VALUES + ["zz"] for e in VALUES
]


@settings(max_examples=400, deadline=None)
@given(
    scope=st.lists(matcher_strategy(), min_size=1, max_size=2),
    silence=st.lists(matcher_strategy(), min_size=1, max_size=3),
)
def test_a_silence_judged_inside_mutes_nothing_outside_the_scope(scope, silence):
    if inside(scope, silence):
        for labels in LABEL_SETS:
            if matches_all(silence, labels):
                assert matches_all(scope, labels), (labels, scope, silence)
