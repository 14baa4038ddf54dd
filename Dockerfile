# One image for every Yearwheel process: `yearwheel api`, `yearwheel worker`, `yearwheel migrate`.
# Build from the repository root (docker-compose.yml does): docker build -t yearwheel .

FROM python:3.11.13-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/yearwheel
WORKDIR /src
# Dependencies first, from pyproject.toml alone, so a code change reuses this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && /opt/yearwheel/bin/pip install -r /tmp/requirements.txt
# Then the project itself (.dockerignore lets only its packages and metadata in).
COPY . .
RUN /opt/yearwheel/bin/pip install . \
    && /opt/yearwheel/bin/yearwheel --help >/dev/null

FROM python:3.11.13-slim-bookworm
ENV PATH=/opt/yearwheel/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin yearwheel
COPY --from=build /opt/yearwheel /opt/yearwheel
USER 10001
WORKDIR /home/yearwheel
# 8000: `yearwheel api --port 8000`; 9464: the worker's Prometheus metrics (YEARWHEEL_METRICS_PORT).
EXPOSE 8000 9464
ENTRYPOINT ["yearwheel"]
CMD ["--help"]
