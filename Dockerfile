# One image for the web app, the worker and the agent (docker-compose.yml picks the command).
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1 CHECKPOINT_DISABLE=1 \
    PRISMA_SCHEMA_ENGINE_BINARY=/app/scripts/prisma-engine-stub.sh PRISMA_SKIP_POSTINSTALL_GENERATE=1
COPY . .
RUN npm install --no-audit --no-fund && node scripts/prisma.mjs generate && npx turbo run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1
COPY --from=build /app /app
EXPOSE 3000
CMD ["npm", "--workspace", "@bootpt/web", "run", "start"]
