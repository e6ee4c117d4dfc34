# chipwatch and device-sim: one image, TypeScript run directly with tsx.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# The embedded PostgreSQL binaries are not needed when DATABASE_URL is set, but npm ci installs them anyway.
RUN npm ci --omit=dev && npm cache clean --force
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY policy ./policy
COPY public ./public
COPY device-sim ./device-sim
USER node
EXPOSE 8080
CMD ["node", "--import", "tsx", "src/main.ts"]
