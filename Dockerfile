# The bridge in a container. Its config, registration and SQLite database live in the /data
# volume; the bridge listens on 0.0.0.0:29334 in the container. See the README, "Docker".
#
#   docker build -t discord-matrix-bridge .
#   docker run --rm -v discord-bridge:/data discord-matrix-bridge            # writes /data/config.yaml
#   docker run --rm -v discord-bridge:/data discord-matrix-bridge -g -r /data/registration.yaml
#   docker run -d --name discord-bridge -v discord-bridge:/data -p 127.0.0.1:29334:29334 \
#       discord-matrix-bridge

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml setup.py README.md LICENSE ./
COPY alembic/ alembic/
COPY bridge/ bridge/
# The README's install commands ("Setting it up", step 1): the migration page's charting
# library from the npm registry into the checkout (bridge/web/assets.py), then the package
# with it, no test extras.
RUN python3 -m venv /opt/discord-bridge \
    && /opt/discord-bridge/bin/python -m bridge.web.assets \
    && /opt/discord-bridge/bin/pip install .

FROM python:3.11-slim
COPY --from=build /opt/discord-bridge /opt/discord-bridge
COPY docker/entrypoint.sh /usr/local/bin/discord-bridge-entrypoint
COPY docker/healthcheck.py /usr/local/lib/discord-bridge/healthcheck.py
RUN useradd --system --user-group --uid 1000 --home-dir /data --no-create-home bridge \
    && mkdir /data \
    && chown bridge:bridge /data
# The first run writes /data/config.yaml; the database (sqlite:discord-bridge.db) is relative
# to it. Environment overrides win over the file: the bridge must listen on every interface.
ENV PATH=/opt/discord-bridge/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    BRIDGE_DATA=/data \
    DISCORD_BRIDGE__APPSERVICE__HOSTNAME=0.0.0.0
VOLUME /data
WORKDIR /data
USER 1000:1000
EXPOSE 29334
# mautrix answers GET /_matrix/mau/ready with 200 once the bridge has started.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/lib/discord-bridge/healthcheck.py"]
ENTRYPOINT ["discord-bridge-entrypoint"]
