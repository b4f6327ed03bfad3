# syntax=docker/dockerfile:1
# services — build with `docker build -t services .` from the repository root.

# 1. Install every dependency and compile TypeScript.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY services/package.json services/
COPY pool-client/package.json pool-client/
COPY emulators/package.json emulators/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json ./
COPY services services
COPY openapi openapi
RUN npm run build

# 2. Production dependencies only, for the services workspace.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY services/package.json services/
COPY pool-client/package.json pool-client/
COPY emulators/package.json emulators/
RUN npm ci --omit=dev --workspace services --no-audit --no-fund

# 3. The runtime image: built code, the spec it serves, the migrations it applies at start.
FROM node:20-bookworm-slim
ENV HOST=0.0.0.0 PORT=8080 DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/services/dist services/dist
COPY services/package.json services/
COPY package.json ./
COPY openapi/openapi.yaml openapi/
COPY migrations migrations
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The server applies pending migrations before it listens.
CMD ["node", "services/dist/server.js"]
