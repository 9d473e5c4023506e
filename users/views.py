"""Browser pages: the landing page, the swipe deck, the results and the account forms.

The deck and the results are rendered in the browser (static/js/) from the REST API; these
views only serve the pages, start guests and handle the account forms."""

from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from cityvibes.errors import ApplicationError

from . import selectors, services
from .forms import RegisterForm

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def home(request):
    return render(request, "home.html")


@require_POST
def guest_start(request):
    """One click: a guest profile, logged in with a session."""
    if not request.user.is_authenticated:
        user, _ = services.guest_create()
        login(request, user, backend=MODEL_BACKEND)
    return redirect("swipe")


def _page_context(request) -> dict:
    profile = selectors.profile_get(user=request.user)
    return {
        "profile": profile,
        "client_state": {
            "username": request.user.username,
            "isGuest": profile.is_guest,
            "swipeCount": profile.swipe_count,
        },
    }


@login_required
def swipe(request):
    return render(request, "users/swipe.html", _page_context(request))


@login_required
def results(request):
    return render(request, "users/results.html", _page_context(request))


def register(request):
    """Create an account; a guest is upgraded in place and keeps every swipe."""
    user = request.user if request.user.is_authenticated else None
    if user is not None and not selectors.profile_get(user=user).is_guest:
        return redirect("swipe")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            registered = services.user_register(
                current_user=user,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                email=form.cleaned_data["email"],
            )
        except ApplicationError as error:
            field = "password1" if "password" in (error.details or {}) else "username"
            form.add_error(field, error.message)
        else:
            login(request, registered, backend=MODEL_BACKEND)
            return redirect("swipe")
    return render(request, "registration/register.html", {"form": form})


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        services.token_revoke(request.user)
    logout(request)
    return redirect(reverse("home"))
