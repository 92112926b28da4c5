# Dockerfile - sluice for containers: a build stage with the -dev packages, then small runtime
# images with only the shared libraries, running as a non-root user.
#
#   docker build --network host -t sluice .             # the runtime image (default target)
#   docker build --network host --target init -t sluice-init .
#
# The runtime image serves ingest, archive and generate (the command is the argument:
# `docker run sluice ingest`); tini is PID 1, so SIGTERM reaches sluice, which finishes or rolls
# back its batch and exits, and nothing is left a zombie. The `init` target adds psql, for the
# one-shot step that creates the schema as the owner role and applies the ingest role's GRANTs.
# No password, key or certificate is in any layer: they come at run time (Docker secrets, the
# certs volume; see docker-compose.yml). apt-get needs the network: build with --network host
# where the engine's default network cannot reach the Debian mirror.

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gcc libc6-dev make cmake pkg-config libpq-dev libxxhash-dev libmicrohttpd-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY src/ src/
COPY sql/ sql/
COPY assets/ assets/
COPY packaging/ packaging/
COPY scripts/make-man.sh scripts/
COPY tests/ tests/
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build /build -j "$(nproc)" --target sluice \
 && /build/sluice --version

FROM debian:bookworm-slim AS runtime-base
# Runtime libraries only (libmicrohttpd12 for the /healthz endpoint), tini as PID 1, and the
# CA bundle. The data folders exist in the image owned by the sluice user, so a fresh named
# volume mounted on /data starts with that owner and layout.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpq5 libxxhash0 libmicrohttpd12 tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 sluice \
 && useradd --system --uid 10001 --gid sluice --home-dir /var/lib/sluice --create-home \
        --shell /usr/sbin/nologin sluice \
 && install -d -o sluice -g sluice -m 0750 /data /data/input /data/temp /data/archive \
        /data/error /data/manifests /var/lib/sluice/checkpoints
COPY --from=build /build/sluice /usr/local/bin/sluice
COPY sql/postgres_setup.sql /usr/local/share/sluice/postgres_setup.sql
COPY docker/healthcheck.sh /usr/local/bin/sluice-healthcheck
ENV DATA_DIR=/data \
    CHECKPOINT_DIR=/var/lib/sluice/checkpoints \
    SLUICE_LISTEN=0.0.0.0:9187
WORKDIR /var/lib/sluice
USER sluice:sluice
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/sluice"]

# The init step: the same binary plus psql (for the GRANTs `sluice db setup` prints).
FROM runtime-base AS init
USER root
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/*
COPY docker/init-schema.sh /usr/local/bin/sluice-init-schema
USER sluice:sluice
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/sluice-init-schema"]

# The default target: ingest, archive or generate.
FROM runtime-base AS runtime
EXPOSE 9187
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/sluice-healthcheck", "/readyz"]
CMD ["ingest"]
