# ferry's container image: the sidecar (FERRY_SIDECAR=1), configured by FERRY_CONFIG and
# mounted files (docs/sidecar.md). Build from the repository root:
#   docker build -t ferry .

# Build stage: the native addon (python3, make and g++ come with the full image; headers
# from the image's own Node, so nothing is downloaded) and the TypeScript, then the same
# tarball `npm run system-install` installs, with the built addon inside.
FROM node:20-bookworm AS build
ENV npm_config_nodedir=/usr/local
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund \
 && mkdir /out \
 && npm pack --ignore-scripts --pack-destination /out

# Run stage: slim Node 20, ip(8) for what `ferry up` does, ferry installed globally.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /tmp/ferry/
RUN npm install --global --ignore-scripts --no-audit --no-fund /tmp/ferry/ferry-*.tgz \
 && rm -rf /tmp/ferry /root/.npm \
 && ferryd --version
# Root inside the container, holding only what the pod grants (NET_ADMIN; MKNOD if it must
# make /dev/net/tun): a non-root process cannot use granted capabilities without file
# capabilities, and those need privilege escalation. See docs/sidecar.md.
ENV FERRY_SIDECAR=1 \
    LOG_LEVEL=info
ENTRYPOINT ["ferryd"]
