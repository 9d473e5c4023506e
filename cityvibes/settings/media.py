"""Static files, the public media and the private files (on disk or S3-compatible storage), and
the Content-Security-Policy that names where images may come from."""

from .environment import BASE_DIR, env

# --- Static files and media -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Let Django serve MEDIA_ROOT itself (the embedded default; not for busy production sites).
SERVE_MEDIA = env.bool("DJANGO_SERVE_MEDIA", default=False)
# Only these folders of MEDIA_ROOT are served (re-encoded photos, their normalised copies and
# thumbnails); anything else a mistake might leave there is not.
PUBLIC_MEDIA_PREFIXES = ("photos/",)
# Private files (core/storage.py): uploads waiting for validation, import archives, model
# artifacts. Never under MEDIA_ROOT, never served; shared by web and workers like the media.
PRIVATE_FILES_ROOT = env.path("PRIVATE_FILES_ROOT", default=BASE_DIR / "private")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "core.storage.PrivateFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# S3-compatible object storage for photos and model artifacts (AWS S3, MinIO, Ceph, R2...), so
# web and worker processes on several hosts see the same files. Credentials come from
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the host's role. See docs/DEPLOYMENT.md.
MEDIA_S3_BUCKET = env.str("MEDIA_S3_BUCKET", default="")
if MEDIA_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": env.str("MEDIA_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("MEDIA_S3_REGION", default=None),
            "custom_domain": env.str("MEDIA_S3_CUSTOM_DOMAIN", default=None),
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": env.bool("MEDIA_S3_SIGNED_URLS", default=True),
        },
    }
    # Private files under their own prefix, always behind signed requests, never through the
    # media's public domain; a separate bucket if MEDIA_S3_PRIVATE_BUCKET names one.
    STORAGES["private"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **STORAGES["default"]["OPTIONS"],
            "bucket_name": env.str("MEDIA_S3_PRIVATE_BUCKET", default=MEDIA_S3_BUCKET),
            "location": "private",
            "custom_domain": None,
            "default_acl": "private",
            "querystring_auth": True,
        },
    }

# --- Content-Security-Policy (django-csp) ---------------------------------------------------
# The pages' JS is first-party ES modules, so no inline script runs anywhere. Styles allow inline
# attributes (the admin and Swagger/ReDoc set them); images come from this site, data: URIs (the
# API docs' icons) and the media storage's origin when media is elsewhere (S3).
if MEDIA_S3_BUCKET:
    _custom_domain = env.str("MEDIA_S3_CUSTOM_DOMAIN", default="")
    _endpoint = env.str("MEDIA_S3_ENDPOINT_URL", default="")
    MEDIA_ORIGINS = [
        f"https://{_custom_domain}"
        if _custom_domain
        else ("/".join(_endpoint.split("/")[:3]) if _endpoint else "https://*.amazonaws.com")
    ]
else:
    MEDIA_ORIGINS = []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", *MEDIA_ORIGINS],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],  # ReDoc's search runs in a worker made from a blob
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
