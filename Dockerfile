# Sluice's container image: the portable (x86-64-v3) build on Debian bookworm.
#   docker build -t sluice .
#   docker run -d -p 8081:8081 -e SLUICE_TOKEN=s3cret -v sluice-data:/var/lib/sluice sluice
# runs `sluice serve` (the REST API, /metrics, /healthz on port 8081; jobs and their checkpoints
# in the volume). Any other command: docker run sluice run /jobs/job.sql --metrics-port 9249 ...
# deploy/kubernetes/ runs the same image; ci/check_deploy.py checks its flags, ports and paths.

# --- build: the compiler and the -dev packages of ci/debian-packages.txt that CMake needs ----
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libabsl-dev libjemalloc-dev libsimdjson-dev libgtest-dev libgmock-dev libbenchmark-dev \
      libsqlite3-dev librdkafka-dev libhwloc-dev libnuma-dev \
      libcpp-httplib-dev libssl-dev prometheus-cpp-dev libyaml-cpp-dev libspdlog-dev librocksdb-dev libre2-dev libboost-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# make install builds the portable binary (make portable: -march=x86-64-v3, build-portable/) and
# stages the binary and its help under /staging.
RUN make install DESTDIR=/staging PREFIX=/usr/local

# --- runtime: the shared libraries the binary loads, nothing to build with ------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libjemalloc2 libabsl20220623 libsimdjson14 librdkafka1 libhwloc15 libnuma1 \
      libcpp-httplib0.11 libprometheus-cpp-core1.0 libyaml-cpp0.7 libssl3 libspdlog1.10 libfmt9 librocksdb7.8 libre2-9 \
      ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /staging/usr/local/bin/sluice /usr/local/bin/sluice
COPY --from=build /staging/usr/local/share/doc/sluice /usr/local/share/doc/sluice
COPY packaging/docker/sluice.yaml /etc/sluice/sluice.yaml
RUN groupadd --system --gid 10001 sluice \
 && useradd --system --uid 10001 --gid sluice --home-dir /var/lib/sluice --shell /usr/sbin/nologin sluice \
 && mkdir -p /var/lib/sluice && chown sluice:sluice /var/lib/sluice
USER 10001:10001
WORKDIR /var/lib/sluice
VOLUME ["/var/lib/sluice"]
EXPOSE 8081
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8081/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/sluice"]
CMD ["serve", "--config", "/etc/sluice/sluice.yaml"]
