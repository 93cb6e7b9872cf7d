# syntax=docker/dockerfile:1
# Sage Active Bridge: one image for its three processes (bridge web | worker | beat) and
# the sandbox. Built from requirements.lock (pinned runtime dependencies); no secrets are
# baked in (see .dockerignore): every setting comes from the environment at run time.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY bridge ./bridge
COPY connectors ./connectors
COPY tasks ./tasks
RUN /opt/venv/bin/pip install --no-deps . && /opt/venv/bin/pip check

FROM python:3.11-slim
RUN groupadd --gid 10001 bridge \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin bridge \
    && install -d -o 10001 -g 10001 /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 BRIDGE_LOG_JSON=true
USER 10001:10001
WORKDIR /home/bridge
# /data: the sandbox's books (a volume there starts owned by the bridge's user)
EXPOSE 8000
CMD ["bridge", "web", "--host", "0.0.0.0", "--port", "8000"]
