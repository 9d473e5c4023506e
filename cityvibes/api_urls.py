"""Routes of REST API v1 (mounted at /api/v1/)."""

from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from core.media import redoc_bundle
from ingest import admin_apis as ingest_admin_apis
from ingest import apis as ingest_apis
from ml import admin_apis as ml_admin_apis
from ml import apis as ml_apis
from photos import apis as photo_apis
from users.apis import auth as auth_apis
from users.apis import cities as similar_city_apis
from users.apis import deck as deck_apis
from users.apis import recommendations as ranking_apis
from users.apis import share as share_apis
from users.apis import swipes as swipe_apis

from . import health

urlpatterns = [
    path("health/live/", health.LiveApi.as_view(), name="health-live"),
    path("health/ready/", health.ReadyApi.as_view(), name="health-ready"),
    path("auth/guest/", auth_apis.GuestCreateApi.as_view(), name="auth-guest"),
    path("auth/register/", auth_apis.RegisterApi.as_view(), name="auth-register"),
    path("auth/login/", auth_apis.LoginApi.as_view(), name="auth-login"),
    path("auth/logout/", auth_apis.LogoutApi.as_view(), name="auth-logout"),
    path("me/", auth_apis.MeApi.as_view(), name="me"),
    path("photos/next/", deck_apis.NextPhotosApi.as_view(), name="photos-next"),
    path("swipes/", swipe_apis.SwipeApi.as_view(), name="swipes"),
    path("swipes/undo/", swipe_apis.SwipeUndoApi.as_view(), name="swipes-undo"),
    path("swipes/reset/", swipe_apis.SwipeResetApi.as_view(), name="swipes-reset"),
    path("recommendations/", ranking_apis.RecommendationsApi.as_view(), name="recommendations"),
    path(
        "recommendations/<slug:slug>/",
        ranking_apis.CityOutlookApi.as_view(),
        name="recommendation-city",
    ),
    path("share/", share_apis.RankingShareApi.as_view(), name="share"),
    path("photos/import", ingest_apis.PhotoImportApi.as_view(), name="photos-import"),
    path("photos/imports/<int:pk>/", ingest_apis.PhotoImportDetailApi.as_view(), name="import"),
    path(
        "photos/imports/<int:pk>/photos/",
        ingest_apis.PhotoImportPhotosApi.as_view(),
        name="import-photos",
    ),
    path("cities/", photo_apis.CityListApi.as_view(), name="cities"),
    path("cities/<slug:slug>/", photo_apis.CityDetailApi.as_view(), name="city-detail"),
    path(
        "cities/<slug:slug>/similar/",
        similar_city_apis.SimilarCitiesApi.as_view(),
        name="city-similar",
    ),
    path("classify", ml_apis.ClassifyApi.as_view(), name="classify"),
    path("classify/", ml_apis.ClassifyApi.as_view(schema=None), name="classify-slash"),
    path("models/", ml_apis.ModelVersionListApi.as_view(), name="models"),
    path("models/<slug:name>/", ml_apis.ModelVersionDetailApi.as_view(), name="model-detail"),
    path(
        "admin/training-jobs/",
        ml_admin_apis.TrainingJobListApi.as_view(),
        name="training-jobs",
    ),
    path(
        "admin/training-jobs/<int:pk>/",
        ml_admin_apis.TrainingJobDetailApi.as_view(),
        name="training-job",
    ),
    path(
        "admin/training-jobs/<int:pk>/cancel/",
        ml_admin_apis.TrainingJobCancelApi.as_view(),
        name="training-job-cancel",
    ),
    path("admin/jobs/", ingest_admin_apis.JobsOverviewApi.as_view(), name="admin-jobs"),
    path(
        "admin/ingestion/", ingest_admin_apis.IngestionSwitchApi.as_view(), name="admin-ingestion"
    ),
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-v1:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-v1:schema"), name="redoc"),
    # ReDoc's script without the badge image it would fetch from Redocly's CDN (core/media.py).
    path("redoc/redoc.standalone.js", redoc_bundle, name="redoc-bundle"),
]
