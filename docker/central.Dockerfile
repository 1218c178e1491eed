# The vendor's central image. Build from the repository root:
#
#   docker build -f docker/central.Dockerfile -t speech-edge/central:$(cat VERSION) \
#     --build-arg VERSION=$(cat VERSION) .
#
# (`make image-central` does this.) Stages: `build` compiles a release binary with the Swift
# stdlib linked statically; `runtime` is Debian 12 slim with only the shared libraries that
# binary needs. `prebuilt` is the same runtime with binaries from the context's prebuilt/
# directory instead of the `build` stage (scripts/container-check.sh uses it on machines
# without a Swift image). Configuration comes only from the environment at run time: the admin
# token, provider keys and TLS key are never baked in.

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
RUN --mount=type=cache,target=/src/.build,sharing=locked \
    swift build -c release --static-swift-stdlib --product central \
 && bin="$(swift build -c release --static-swift-stdlib --show-bin-path)" \
 && install -D -m 0755 "$bin/central" /out/usr/local/bin/central \
 && strip --strip-debug /out/usr/local/bin/central \
 && for bundle in "$bin"/*.resources; do \
      case "$bundle" in *EdgeAgent*) ;; *) if [ -d "$bundle" ]; then cp -R "$bundle" /out/usr/local/bin/; fi ;; esac; \
    done

FROM ${RUNTIME_IMAGE} AS runtime-base
# Exactly what `ldd central` lists from Debian (SQLite, Opus and Ogg for the providers, libstdc++,
# libgcc, zlib), and the CA roots for outgoing TLS (the speech provider, e.g. DashScope).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libsqlite3-0 libopus0 libogg0 libstdc++6 libgcc-s1 zlib1g \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/cache/debconf/*-old /var/log/apt /var/log/dpkg.log \
 && groupadd --system --gid 10002 central \
 && useradd --system --uid 10002 --gid 10002 --home-dir /var/lib/central --no-create-home \
      --shell /usr/sbin/nologin central \
 && install -d -o central -g central -m 0700 /var/lib/central
# The database lives in the volume at /var/lib/central. TLS_CERT_FILE / TLS_KEY_FILE (mounted
# read-only, e.g. under /etc/central/tls) switch the listener to HTTPS.
ENV CENTRAL_HOST=0.0.0.0 \
    CENTRAL_PORT=8080 \
    DATABASE_URL=sqlite:/var/lib/central/central.sqlite
WORKDIR /var/lib/central
VOLUME ["/var/lib/central"]
EXPOSE 8080
# Numeric, so that Kubernetes' runAsNonRoot can verify it (uid/gid of `central` above).
USER 10002:10002
# No curl in the image: bash's /dev/tcp asks GET /healthz. With TLS on, a plain-HTTP request
# cannot be answered, so an accepted connection counts as alive.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${CENTRAL_PORT:-8080} || exit 1; [ -n \"$TLS_CERT_FILE\" ] && exit 0; printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && IFS= read -r -t 4 line <&3 && [[ $line == 'HTTP/1.1 200'* ]]"]
# On SIGTERM central stops every live stream, bills it to the last frame and frees its lease
# before it exits: give it time (compose: stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/central"]
CMD ["serve"]
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE_URL=unspecified
LABEL org.opencontainers.image.title="speech-edge central" \
      org.opencontainers.image.description="Speech Edge central: licenses, quotas, metering, relay to speech providers" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.base.name="debian:bookworm-slim"

# Binaries built elsewhere: prebuilt/usr/local/bin/central.
FROM runtime-base AS prebuilt
COPY prebuilt/ /

# The default target.
FROM runtime-base AS runtime
COPY --from=build /out/ /
