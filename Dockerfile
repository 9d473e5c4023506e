# City Vibes: one image for every role (web, Celery workers, Flower, migrations, one-off
# commands); compose.yaml picks the role with `command`. See docs/DEPLOYMENT.md.
#
#   docker build -t cityvibes .
#   docker run --rm -p 8000:8000 -e DJANGO_SECRET_KEY=... -e DJANGO_ALLOWED_HOSTS=... \
#       -e DATABASE_URL=postgres://... -e CELERY_BROKER_URL=redis://... cityvibes

# --- build: the virtualenv, from the pinned requirements -------------------------------------
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
# Requirements first, alone: the dependency layer (TensorFlow is most of the image) is rebuilt
# only when a requirements file changes, not on every code change. base.txt reads
# constraints.txt (-c), so the whole folder is copied. Every pin has a manylinux wheel: no
# compiler needed.
COPY requirements/ /tmp/requirements/
RUN /opt/venv/bin/pip install -r /tmp/requirements/base.txt

# --- runtime ---------------------------------------------------------------------------------
FROM python:3.11-slim AS runtime

# TF_CPP_MIN_LOG_LEVEL=1 hides TensorFlow's C++ INFO lines on stderr (warnings still show).
ENV PATH=/opt/venv/bin:$PATH \
    HOME=/home/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=cityvibes.settings.production \
    MEDIA_ROOT=/data/media \
    PRIVATE_FILES_ROOT=/data/private \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    TF_CPP_MIN_LOG_LEVEL=1

# An unprivileged user with a home: Keras keeps ~/.keras there and gunicorn its control socket
# (~/.gunicorn). MEDIA_ROOT and PRIVATE_FILES_ROOT are created and owned by it, so fresh named
# volumes mounted there are writable too (Docker copies the ownership into an empty volume).
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app app \
 && mkdir -p /data/media /data/private /tmp/prometheus \
 && chown app:app /data/media /data/private /tmp/prometheus

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
# The code stays owned by root: the app user can read it, not change it.
COPY . /app

# Static files are built into the image (WhiteNoise serves them). Production settings refuse to
# load without a secret key and allowed hosts: throwaway values for this one command only, they
# are not kept in the image. Without PROMETHEUS_MULTIPROC_DIR, so that no metric files of this
# build are left in the image.
RUN env -u PROMETHEUS_MULTIPROC_DIR \
        DJANGO_SECRET_KEY=collectstatic-only-not-a-secret DJANGO_ALLOWED_HOSTS=localhost \
        python manage.py collectstatic --noinput --verbosity 0

# Numeric, so that orchestrators can verify it is not root (runAsNonRoot).
USER 10001:10001

EXPOSE 8000

# Liveness only (no database, broker or model): whatever acts on it should replace a stuck
# process, not every container when PostgreSQL is down. The Host header must be one Django accepts, so the first
# entry of DJANGO_ALLOWED_HOSTS is sent; X-Forwarded-Proto avoids the HTTPS redirect. Python,
# because the slim image has no curl. Only the web role listens: compose.yaml replaces this
# check for the other roles.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = [x.strip().lstrip('.') for x in os.environ.get('DJANGO_ALLOWED_HOSTS', '').split(',') if x.strip() not in ('', '*')]; r = u.Request('http://127.0.0.1:8000/api/v1/health/live/', headers={'Host': (h or ['localhost'])[0], 'X-Forwarded-Proto': 'https'}); u.urlopen(r, timeout=4)"]

CMD ["gunicorn", "-c", "gunicorn.conf.py", "cityvibes.wsgi"]
