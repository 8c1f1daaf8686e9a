# Roster's server image: small, runs as a non-root user, healthy once /readyz is.
# Build: docker build -t roster .   Run: see compose.yaml and docs/deploy.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY src ./src
COPY migrations ./migrations
# Editable, so the code finds migrations/ beside src/ as in a checkout.
RUN pip install -c constraints.txt -e . \
    && useradd --system --uid 10001 --no-create-home --home-dir /app roster \
    && mkdir /data && chown roster /data

USER roster
ENV ROSTER_DATABASE_URL=sqlite:////data/roster.db \
    ROSTER_LOG_FORMAT=json
EXPOSE 8000
STOPSIGNAL SIGTERM
# 503 (a pending migration, the database away) makes urlopen raise: unhealthy.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
CMD ["roster", "serve", "--host", "0.0.0.0", "--port", "8000"]
