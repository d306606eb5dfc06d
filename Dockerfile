# Homefront API container image.
#
#   docker build -t homefront .
#   docker run --env-file homefront.env -p 3000:3000 homefront
# where homefront.env holds JWT_SECRET, PASSWORD_PEPPER, DATABASE_URL, ... and leaves NODE_ENV,
# HOST, PORT and DATA_DIR to the image (variables given at run time override the image's; a .env
# copied from .env.example sets NODE_ENV=development and HOST=127.0.0.1, which do not fit here).
#
# Three stages: `build` compiles TypeScript with the dev dependencies, `deps` installs the production
# dependencies alone, and the runtime stage takes node_modules from `deps` and dist/ from `build`, so
# neither the dev dependencies, the sources nor npm's cache reach the final image.
#
# Both npm ci steps share npm's download cache through a build cache mount and prefer it to the
# network (the lockfile's integrity hashes still pin every package), so packages are fetched once
# per machine, not once per stage and build.
#
# npm install scripts are skipped (--ignore-scripts): the native pieces (@node-rs/bcrypt, PGlite's
# WebAssembly) come prebuilt inside their npm packages, and nothing else needs a script.
#
# Behind a TLS-inspecting proxy, pass its CA to npm as a build secret (nothing is left in the image):
#   docker build --secret id=npm_ca,src=/path/to/ca-bundle.pem -t homefront .

# The one place the base image is named. Pinned by version, the Node.js release CI runs on
# (.ci/node.sh; a test keeps the two equal); add the digest
# (node:24.22.3-bookworm-slim@sha256:...) for byte-for-byte reproducible builds.
FROM node:24.22.3-bookworm-slim AS base

FROM base AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm_ca \
    --mount=type=cache,target=/root/.npm,sharing=locked \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm ci --prefer-offline --ignore-scripts --no-audit --no-fund --no-update-notifier
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.mjs scripts/bundle-server.mjs scripts/pglite-template.mjs ./scripts/
COPY src ./src
RUN npm run build

FROM base AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm_ca \
    --mount=type=cache,target=/root/.npm,sharing=locked \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm ci --omit=dev --prefer-offline --ignore-scripts --no-audit --no-fund --no-update-notifier

FROM base
LABEL org.opencontainers.image.title="homefront" \
      org.opencontainers.image.description="Homefront API: the backend of a home-services marketplace"
# HOST: listen on every interface of the container. DATA_DIR: the embedded database and the mail
# outbox, used only when DATABASE_URL / SMTP_URL are unset (mount a volume there in that case).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data
WORKDIR /app
# The application files stay owned by root and read-only to the `node` user that runs them;
# only DATA_DIR is writable.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY scripts/container/healthcheck.mjs ./scripts/container/
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
# Healthy = /health/ready answers 200 (database reachable, migrations applied). Migrations run after
# listen, so the start period covers a first start against an empty database.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "/app/scripts/container/healthcheck.mjs"]
# node itself is PID 1 (never `npm start`): it receives SIGTERM directly and closes gracefully
# (in-flight requests finish, then exit 0) within 9 s, inside Docker's default 10 s stop timeout.
# With WEB_CONCURRENCY > 1 it supervises workers and allows them 10 s: stop with a longer timeout
# (docker-compose.yml sets stop_grace_period: 15s).
CMD ["node", "dist/server.js"]
