# chipwatch and device-sim: one image running compiled JavaScript as an unprivileged user.
#   build  → npm ci with dev dependencies, `npm run build` (tsc emits dist/, assets copied beside it)
#   deps   → production dependencies only (no compiler, no embedded PostgreSQL needed when DATABASE_URL is set)
#   final  → /app read-only and root-owned, /data a volume owned by the `node` user (uid 1000): the generated
#            evidence seal, ack key and API secret live there and survive new containers that mount the same volume.
# Keys from files instead (Docker secrets, a mounted folder): EVIDENCE_SIGNING_KEY_FILE, ACK_SIGNING_KEY_FILE,
# AUTH_JWT_SECRET_FILE, MQTT_PASSWORD_FILE.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY device-sim ./device-sim
COPY migrations ./migrations
COPY policy ./policy
COPY public ./public
RUN npm run build

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts stay on: sodium-native picks its prebuilt binary; the embedded PostgreSQL binaries come along
# with the package but are only started when DATABASE_URL is unset.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/data \
    HTTP_PORT=8080
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data \
    && chmod -R a-w /app
VOLUME ["/data"]
USER node
EXPOSE 8080 1883
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--enable-source-maps", "dist/src/main.js"]
