# syntax=docker/dockerfile:1
# olares-operator: one image for the operator (`run`), the node agent (`agent`), `plan`, `validate`
# and the chart's CRD upgrade hook (`crd --apply`). See docs/image.md.

ARG NODE_IMAGE=node:22.12.0-bookworm-slim
ARG GO_IMAGE=golang:1.25.5-bookworm
# The helm that installs the Olares release (the operator runs it; tested with 3.17 and 4.1).
ARG HELM_VERSION=v4.1.4

# ---- helm: built from its Go module at the pinned tag; every module it pulls is checked against
# the Go checksum database (sum.golang.org), so the binary is pinned and verified for each platform ----
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS helm
ARG HELM_VERSION
ARG TARGETOS
ARG TARGETARCH
WORKDIR /helm
RUN go mod init olares-operator/helm \
 && go get "helm.sh/helm/v4/cmd/helm@${HELM_VERSION}" \
 && CGO_ENABLED=0 GOOS="${TARGETOS}" GOARCH="${TARGETARCH}" go build -trimpath \
      -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}" \
      -o /out/helm helm.sh/helm/v4/cmd/helm

# ---- build: full dependency tree, compile, then drop dev dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY crds/ crds/
COPY operator/src/ operator/src/
# Type declarations and source maps of dependencies are never loaded at run time (~45 MB).
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && find node_modules dist -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete \
 && find node_modules -type f -name '*.map' -delete \
 && npm cache clean --force

# ---- runtime: slim Node 22 LTS, production dependencies, compiled JS and the CRDs ----
FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="olares-operator" \
      org.opencontainers.image.description="Installs and runs Olares on Kubernetes: the OlaresInstallation operator and its node agent" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/olares-operator/olares-operator" \
      org.opencontainers.image.url="https://github.com/olares-operator/olares-operator" \
      org.opencontainers.image.documentation="https://github.com/olares-operator/olares-operator/blob/main/docs/image.md" \
      org.opencontainers.image.vendor="Olares" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/node:22.12.0-bookworm-slim"

# util-linux brings nsenter, which the node agent uses to run host tools in the host's namespaces.
# npm/corepack are not needed at run time; removing them drops ~20 MB and their advisories.
RUN apt-get update \
 && apt-get install -y --no-install-recommends util-linux \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
 && groupadd --gid 65532 nonroot \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nonroot

WORKDIR /app
# libuv's threadpool (4 threads by default) runs every async fs call. The node agent's storage copier keeps
# 16 files in flight; when JuiceFS's object store is away, writes into the mount block for JuiceFS's whole
# retry window and 4 blocked threads would stall every other fs call of the agent (its state file, unit
# control) for minutes. 64 leaves the control path free.
ENV NODE_ENV=production UV_THREADPOOL_SIZE=64
COPY --from=build --chown=0:0 /src/package.json ./package.json
COPY --from=build --chown=0:0 /src/node_modules/ ./node_modules/
COPY --from=build --chown=0:0 /src/dist/ ./dist/
COPY --from=build --chown=0:0 /src/crds/ ./crds/
COPY --from=helm --chown=0:0 /out/helm /usr/local/bin/helm
# The operator runs that helm (--helm defaults to $OLARES_HELM); its cache/config live in a tmp dir.
ENV OLARES_HELM=/usr/local/bin/helm

# `olares-operator` on PATH (kubectl exec ... -- olares-operator plan -f -), same entry point as ENTRYPOINT.
RUN chmod 0755 /app/dist/operator/src/cli/main.js \
 && ln -s /app/dist/operator/src/cli/main.js /usr/local/bin/olares-operator

# Files are root-owned and read-only to the process; it runs as uid 65532 (the chart also sets
# readOnlyRootFilesystem). The node agent DaemonSet overrides the user: it needs root on the host.
USER 65532:65532
EXPOSE 8080
# Kubernetes ignores Docker HEALTHCHECK; liveness/readiness are the chart's httpGet probes on
# /healthz and /readyz (port 8080). A Docker healthcheck would also be wrong for `agent` and `crd`.
HEALTHCHECK NONE
ENTRYPOINT ["node", "/app/dist/operator/src/cli/main.js"]
CMD ["run"]
