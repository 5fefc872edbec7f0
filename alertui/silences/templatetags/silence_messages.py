"""{% undo_offer message as undo %}: the undo a silence message offers (see silences.feedback)."""

from django import template

from alertui.silences.feedback import undo_of

register = template.Library()


@register.simple_tag
def undo_offer(message):
    return undo_of(message)
