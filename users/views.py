"""Browser pages: the landing page, the swipe deck, the results and the account forms.

The deck and the results are rendered in the browser (static/js/) from the REST API; these
views only serve the pages, start guests and handle the account forms. The forms that create
or log in count against the same rate limits as the API's doors (core.ratelimit); a
refused one is a 429 with Retry-After, showing the form again with the wait."""

from django.contrib import admin, messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core import ratelimit
from core.errors import ApplicationError
from photos import selectors as photo_selectors

from . import selectors, services
from .forms import AdminLoginForm, LoginForm, RegisterForm

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _refused(response, wait: int | None):
    """``response`` as a 429 with Retry-After when a limit refused the request (``wait``)."""
    if wait is not None:
        response.status_code = 429
        response["Retry-After"] = str(wait)
    return response


def home(request):
    return render(request, "home.html", {"demo_deck": photo_selectors.deck_is_generated()})


@require_POST
def guest_start(request):
    """One click: a guest profile, logged in with a session."""
    if not request.user.is_authenticated:
        wait = ratelimit.attempt(request, "guest")
        if wait is not None:
            context = {"error": ratelimit.refusal("guest starts", wait)}
            return _refused(render(request, "registration/guest_start.html", context), wait)
        user, _ = services.guest_create()
        login(request, user, backend=MODEL_BACKEND)
    return redirect("swipe")


class LoginView(auth_views.LoginView):
    """Django's log-in page with the limited form (see LoginForm)."""

    authentication_form = LoginForm

    def form_invalid(self, form):
        return _refused(super().form_invalid(form), form.retry_after)


class _AdminLoginSite(admin.AdminSite):
    """Serves admin.site's log-in page (same name, so the same templates and redirects) with the
    limited form; every other admin page stays on admin.site."""

    login_form = AdminLoginForm


_admin_login_site = _AdminLoginSite(name=admin.site.name)


def admin_login(request):
    """/admin/login/ (routed in front of admin.site.urls): a 429 when a limit refused the form."""
    response = _admin_login_site.login(request)
    form = (getattr(response, "context_data", None) or {}).get("form")
    return _refused(response, getattr(form, "retry_after", None))


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
    wait = ratelimit.attempt(request, "register") if request.method == "POST" else None
    if wait is not None:
        form.add_error(None, ratelimit.refusal("sign-ups", wait))
    elif request.method == "POST" and form.is_valid():
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
            count = selectors.profile_get(user=registered).swipe_count
            saved = (
                f" Your {count} {'swipe is' if count == 1 else 'swipes are'} saved."
                if count
                else ""
            )
            messages.success(
                request, f"Welcome, {registered.get_username()}: your account is ready.{saved}"
            )
            return redirect("swipe")
    return _refused(render(request, "registration/register.html", {"form": form}), wait)


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        services.token_revoke(request.user)
    logout(request)
    return redirect(reverse("home"))


CITY_PAGE = {"photo_limit": 12, "reason_limit": 4, "similar_limit": 6}
SHARED_CITIES = 10


def _statistics(profile):
    """The Bayesian rankers rank from caught-up swipe statistics (stored first, then read)."""
    return (
        services.ranker_state_catch_up(profile=profile)
        if selectors.ranker_of(profile).bayesian
        else None
    )


def city(request, slug):
    """A city: its most typical deck photos, its look-alikes and, for a signed-in person (guests
    too), where it ranks for them and the swipes that moved it."""
    profile = selectors.profile_get(user=request.user) if request.user.is_authenticated else None
    found = selectors.city_outlook(
        profile=profile,
        slug=slug,
        statistics=_statistics(profile) if profile is not None and profile.pk else None,
        **CITY_PAGE,
    )
    if found is None:
        raise Http404(f"There is no city '{slug}'.")
    return render(request, "users/city.html", {"outlook": found})


def shared_ranking(request, token):
    """The read-only page a share link opens: the ranking as it is now, without the swipes."""
    profile = selectors.profile_by_share_token(token=token)
    if profile is None:
        raise Http404("This share link does not exist or was ended.")
    found = selectors.recommendations(
        profile=profile, limit=SHARED_CITIES, statistics=_statistics(profile)
    )
    photos = {
        photo.pk: photo
        for photo in photo_selectors.photos_in_order(
            photo_ids=[c.photo_id for c in found.cities if c.photo_id]
        )
    }
    cards = [{"city": c, "photo": photos.get(c.photo_id)} for c in found.cities]
    response = render(request, "users/shared.html", {"ranking": found, "cards": cards})
    response["Referrer-Policy"] = "no-referrer"  # the token never leaves in a Referer header
    response["X-Robots-Tag"] = "noindex"
    return response
