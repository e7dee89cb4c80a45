# The service image: the same set-up as `make run`, in a container.
FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap make util-linux acl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md Makefile ./
COPY scripts ./scripts
COPY core ./core
COPY agent ./agent
COPY tools ./tools
COPY sandbox ./sandbox
COPY knowledge ./knowledge
COPY prompts ./prompts
RUN make setup PYTHON=python3.11
ENV MLAGENT_DATA_DIR=/data MLAGENT_HOST=0.0.0.0 MLAGENT_PORT=8000
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD [".venv/bin/mlagent", "serve"]
