# Pithead production image: gunicorn with uvicorn workers, PostgreSQL named by the environment.
#
#   docker build -t pithead .
#   docker run -p 8000:8000 -e PITHEAD_DATABASE_URL=postgresql+psycopg://... \
#              -e PITHEAD_SECRET_KEY=... -e PITHEAD_MIGRATE_ON_START=1 pithead
FROM python:3.11-slim

# PYTHONPATH=/app: the app finds alembic.ini, migrations/ and static/ next to its own package
# (app/config.py PROJECT_ROOT), so it must be imported from /app, not from site-packages;
# `pip install .` still brings the dependencies and the `pithead` console script.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    PITHEAD_ENV=production \
    PITHEAD_MEDIA_DIR=/data/media

WORKDIR /app

# Dependencies in a layer of their own, rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir app && touch app/__init__.py \
 && pip install . \
 && pip uninstall -y pithead \
 && rm -rf app build ./*.egg-info

# The whole context, filtered by .dockerignore (app/, migrations/, static/, alembic.ini,
# courses/ when present). No font package: the certificate PDF's font is in
# app/certificates/fonts/.
COPY . .
# The entrypoint's lines are single-quoted on purpose: they expand when it runs, not here.
# hadolint ignore=SC2016
RUN pip install --no-deps . \
 && rm -rf build ./*.egg-info \
 && python -m compileall -q app migrations \
 && groupadd --system --gid 10001 pithead \
 && useradd --system --uid 10001 --gid pithead --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin pithead \
 && mkdir -p /app/var /data/media \
 && chown pithead:pithead /app/var /data/media \
 && printf '%s\n' \
      '#!/bin/sh' \
      'set -e' \
      'if [ -z "${PITHEAD_DATABASE_URL:-}" ]; then' \
      '  echo "pithead: set PITHEAD_DATABASE_URL, e.g. postgresql+psycopg://user:password@host:5432/pithead" >&2' \
      '  exit 64' \
      'fi' \
      'if [ "${PITHEAD_MIGRATE_ON_START:-0}" = "1" ]; then' \
      '  pithead db upgrade' \
      'fi' \
      'exec "$@"' \
      > /usr/local/bin/pithead-entrypoint \
 && chmod 0755 /usr/local/bin/pithead-entrypoint

USER 10001:10001
EXPOSE 8000

# No curl in the slim image: python's urllib; a 503 (database unreachable) raises, so exit 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["/usr/local/bin/pithead-entrypoint"]
# Shell form inside sh -c so that ${WEB_CONCURRENCY} and ${FORWARDED_ALLOW_IPS} expand at start.
CMD ["sh", "-c", "exec gunicorn 'app.main:create_app()' -k uvicorn.workers.UvicornWorker --workers \"${WEB_CONCURRENCY:-4}\" --bind 0.0.0.0:8000 --forwarded-allow-ips \"${FORWARDED_ALLOW_IPS:-127.0.0.1,::1}\" --worker-tmp-dir /dev/shm --graceful-timeout 30 --access-logfile -"]
