"""The person's own API tokens: create (shown once), list, revoke."""

import logging
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from alertui.api.models import ApiToken
from alertui.durations import format_duration

log = logging.getLogger(__name__)
LIFETIMES = [timedelta(days=d) for d in (7, 30, 90, 365)]


def _lifetime_choices():
    longest = timedelta(seconds=settings.API_TOKEN_MAX_AGE)
    days = [d for d in LIFETIMES if d <= longest] or [longest]
    return [(int(d.total_seconds()), format_duration(d)) for d in days]


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where it is used, such as deploy-pipeline.")
    lifetime = forms.TypedChoiceField(coerce=int, choices=(), label="Valid for")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["lifetime"].choices = _lifetime_choices()
        self.fields["lifetime"].initial = self.fields["lifetime"].choices[-1][0]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if ApiToken.objects.filter(user=self.user, name=name).exists():
            raise forms.ValidationError("You already have a token of that name; revoke it first.")
        return name


@never_cache  # the page may show a new token, once: no copy in any cache
@require_http_methods(["GET", "POST"])
def token_list(request):
    created = None
    if request.method == "POST":
        form = TokenForm(request.POST, user=request.user)
        if form.is_valid():
            token, created = ApiToken.objects.create(
                request.user,
                expiry=timedelta(seconds=form.cleaned_data["lifetime"]),
                name=form.cleaned_data["name"],
            )
            log.info("API token %s created by %s", token.label, request.user.get_username())
            form = TokenForm(user=request.user)
    else:
        form = TokenForm(user=request.user)
    ctx = {
        "form": form,
        "created": created,
        "tokens": ApiToken.objects.filter(user=request.user),
        "api_base": request.build_absolute_uri("/api/v1/"),
    }
    return render(request, "api/tokens.html", ctx, status=400 if form.errors else 200)


@require_POST
def token_revoke(request, token_key):
    # Only the person's own tokens: another person's key matches nothing.
    revoked = list(ApiToken.objects.filter(user=request.user, token_key=token_key[:25]))
    for token in revoked:
        token.delete()
        log.info("API token %s revoked by %s", token.label, request.user.get_username())
    if revoked:
        messages.success(request, f"Token {revoked[0].name} revoked; it no longer works.")
    else:
        messages.error(request, "No such token (it may have expired or been revoked already).")
    return redirect("token_list")
