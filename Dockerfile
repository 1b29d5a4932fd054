# syntax=docker/dockerfile:1
# One image, two programs: the operator (the default command) and the runner that automation Jobs
# start with `node dist/operator/runner/main.js --run-spec FILE`. Debian bookworm, like the Node
# base, so the browser is Debian's chromium that playwright-core drives (executablePath
# /usr/bin/chromium). Runs as the numeric non-root user 65532 on a read-only root filesystem:
# HOME and TMPDIR point at /tmp, an emptyDir in the pod.
ARG NODE_VERSION=24.21.0
# npm may sit behind a TLS-intercepting proxy: a build passes that proxy's CA as the secret
# build-ca (hack/image/build.sh does), which exists only while those RUNs run and never enters a
# layer. Without the secret Node warns once that the file is missing and uses its own CAs.

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=build-ca NODE_EXTRA_CA_CERTS=/run/secrets/build-ca npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY core ./core
COPY operator ./operator
COPY connectors ./connectors
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=build-ca NODE_EXTRA_CA_CERTS=/run/secrets/build-ca npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="mfa-operator" \
      org.opencontainers.image.description="Kubernetes operator that turns on authenticator-app MFA for shared SaaS accounts and keeps the TOTP seed in a secret store" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/mfa-operator/mfa-operator" \
      org.opencontainers.image.documentation="https://github.com/mfa-operator/mfa-operator/blob/main/docs/install.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/node:${NODE_VERSION}-bookworm-slim"

# Chromium and its fonts follow Debian's security updates, so they are not pinned to a version.
# libnss3-tools is certutil, which writes the NSS database of extra CAs a run trusts (spec.account.caBundleRef).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-liberation fonts-noto-color-emoji libnss3-tools tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 mfa-operator \
 && useradd --uid 65532 --gid 65532 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin mfa-operator

ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    HOME=/tmp \
    TMPDIR=/tmp \
    XDG_CONFIG_HOME=/tmp/.config \
    XDG_CACHE_HOME=/tmp/.cache

WORKDIR /app
COPY --chown=0:0 package.json ./
COPY --from=production-dependencies --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /src/dist/core ./dist/core
COPY --from=build --chown=0:0 /src/dist/operator ./dist/operator
COPY --from=build --chown=0:0 /src/dist/connectors ./dist/connectors

USER 65532:65532
EXPOSE 8080 8443
# tini is PID 1: it forwards SIGTERM to Node and reaps the browser's orphaned children.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/operator/main.js"]
