# syntax=docker/dockerfile:1
# One image, two entrypoints: the API (the default command) and the consumer
# (`python -m consumer`). Build from the repo root: docker build -t resizeq:0.1.0 .

ARG PYTHON_VERSION=3.11

# --- builder: turns the project and its dependencies into wheels -------------------------
FROM python:${PYTHON_VERSION}-slim AS builder

# A compiler only for dependencies without a wheel for this platform; it stays in this stage.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY api ./api
COPY consumer ./consumer
COPY resizeq ./resizeq
RUN pip wheel --wheel-dir /wheels .

# --- runtime: slim, no compiler, non-root -------------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS runtime

ARG UID=10001
ARG GID=10001

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STORAGE_DIR=/data \
    LOG_FORMAT=json

RUN groupadd --system --gid "${GID}" resizeq \
    && useradd --system --uid "${UID}" --gid "${GID}" --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin resizeq \
    && install --directory --owner "${UID}" --group "${GID}" --mode 0750 /data

RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels resizeq

COPY --chmod=0755 deploy/docker/healthcheck.py /usr/local/bin/resizeq-healthcheck

WORKDIR /app
USER ${UID}:${GID}
VOLUME ["/data"]
EXPOSE 8000 9100

# Probes the API's /healthz or the consumer's (METRICS_PORT); HEALTHCHECK_URL overrides both.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "/usr/local/bin/resizeq-healthcheck"]

CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000", "--no-server-header"]
