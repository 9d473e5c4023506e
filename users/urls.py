"""Browser pages of the users app (the REST API is in cityvibes/api_urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("start/", views.guest_start, name="guest-start"),
    path("swipe/", views.swipe, name="swipe"),
    path("results/", views.results, name="results"),
    path("cities/<slug:slug>/", views.city, name="city"),
    path("shared/<str:token>/", views.shared_ranking, name="shared-ranking"),
    path("register/", views.register, name="register"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
]
