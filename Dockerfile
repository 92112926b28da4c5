# Dockerfile - sluice and the PostgreSQL it embeds, in one image.
#
#   docker build -t sluice .
#   docker run --rm -it sluice                      # the demo: 60 s of the whole pipeline
#   docker run --rm -it -e DEMO_SECONDS=20 sluice
#   docker run --rm -it sluice build/sluice --help
#
# The embedded cluster runs as the image's postgres user (PostgreSQL refuses root); sluice
# hands it the folder itself, so the image needs nothing else.
FROM debian:bookworm-slim

COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh

WORKDIR /src
COPY . .
RUN rm -rf build build-* data && make build

ENV DEMO_SECONDS=60
CMD ["scripts/demo.sh"]
