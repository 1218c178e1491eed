# The customer's edge-agent image. Build from the repository root:
#
#   docker build -f docker/edge.Dockerfile -t speech-edge/edge-agent:$(cat VERSION) \
#     --build-arg VERSION=$(cat VERSION) --build-arg VENDOR_CENTRAL_URL=https://central.vendor.example .
#
# (`make image-edge` does this.) Stages: `build` compiles a release binary with the Swift stdlib
# linked statically; `runtime` is Debian 12 slim with only the shared libraries that binary
# needs. `prebuilt` is the same runtime with binaries from the context's prebuilt/ directory
# instead of the `build` stage (scripts/container-check.sh uses it on machines without a Swift
# image). Configuration comes only from the environment at run time: LICENSE_KEY is never
# baked in.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libasound2-dev libopus-dev libogg-dev libsqlite3-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.* ./
COPY Sources ./Sources
COPY Tests ./Tests
# The vendor's central, compiled in as the default CENTRAL_URL (VendorDefaults.centralURL).
ARG VENDOR_CENTRAL_URL=
RUN --mount=type=cache,target=/src/.build,sharing=locked \
    if [ -n "$VENDOR_CENTRAL_URL" ]; then \
      sed -i "s|centralURL = \".*\"|centralURL = \"$VENDOR_CENTRAL_URL\"|" Sources/EdgeAgent/Configuration/VendorDefaults.swift; \
    fi \
 && swift build -c release --static-swift-stdlib --product edge-agent \
 && bin="$(swift build -c release --static-swift-stdlib --show-bin-path)" \
 && install -D -m 0755 "$bin/edge-agent" /out/usr/local/bin/edge-agent \
 && strip --strip-debug /out/usr/local/bin/edge-agent \
 && cp -R "$bin/speech-edge_EdgeAgent.resources" /out/usr/local/bin/

FROM ${RUNTIME_IMAGE} AS runtime-base
# Exactly what `ldd edge-agent` lists from Debian (ALSA, Opus, Ogg, libstdc++, libgcc, zlib), and
# the CA roots that verify central's certificate when CENTRAL_CA_FILE is not set.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libasound2 libopus0 libogg0 libstdc++6 libgcc-s1 zlib1g \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/cache/debconf/*-old /var/log/apt /var/log/dpkg.log \
 && groupadd --system --gid 10001 edge \
 && useradd --system --uid 10001 --gid 10001 --groups audio --home-dir /var/lib/edge --no-create-home \
      --shell /usr/sbin/nologin edge \
 && install -d -o edge -g edge -m 0700 /var/lib/edge
# The container listens on all its interfaces; compose publishes the port on the host's
# loopback only. The device identity lives in the volume at /var/lib/edge.
ENV EDGE_BIND=0.0.0.0 \
    EDGE_PORT=3000 \
    EDGE_DATA_DIR=/var/lib/edge
WORKDIR /var/lib/edge
VOLUME ["/var/lib/edge"]
EXPOSE 3000
# By name and without a group, so the user keeps its supplementary `audio` group (uid 10001).
# hadolint ignore=DL3066
USER edge
# No curl in the image: bash's /dev/tcp asks the local API for its status.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${EDGE_PORT:-3000} && printf 'GET /api/status HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && IFS= read -r -t 4 line <&3 && [[ $line == 'HTTP/1.1 200'* ]]"]
# edge-agent stops gracefully on SIGTERM (swift-service-lifecycle), also as PID 1.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/edge-agent"]
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE_URL=unspecified
LABEL org.opencontainers.image.title="speech-edge edge-agent" \
      org.opencontainers.image.description="Speech Edge customer agent: microphone capture, Opus, local page and API on :3000" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.base.name="debian:bookworm-slim"

# Binaries built elsewhere: prebuilt/usr/local/bin/edge-agent and its resource bundle.
FROM runtime-base AS prebuilt
COPY prebuilt/ /

# The default target.
FROM runtime-base AS runtime
COPY --from=build /out/ /
