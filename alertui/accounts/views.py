"""Login and logout (Django's views), and the two first-start traps they explain.

With SECURE_COOKIES on (the default outside DEBUG) a browser on a plain http:// address drops
alertui's cookies: the login form then fails its CSRF check, or the login cannot stick. The
login page and the CSRF refusal say so instead of failing without a word.
"""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render


def cookies_need_https(request) -> bool:
    """True when this request came over plain HTTP but alertui's cookies are HTTPS-only."""
    secure_only = settings.SESSION_COOKIE_SECURE or settings.CSRF_COOKIE_SECURE
    return secure_only and not request.is_secure()


class LoginView(auth_views.LoginView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["cookies_need_https"] = cookies_need_https(self.request)
        return context


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: Django's refusal, plus what to do when the cookie never arrived."""
    context = {
        "reason": reason,
        "cookies_need_https": reason == REASON_NO_CSRF_COOKIE and cookies_need_https(request),
    }
    return render(request, "403_csrf.html", context, status=403)


login = LoginView.as_view()
logout = auth_views.LogoutView.as_view()
