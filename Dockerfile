# riskwarden: the CLI, the supervisor and the local exchange simulator in one image.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY machines ./machines
COPY config ./config
ENV NODE_ENV=production
ENTRYPOINT ["node", "bin/riskwarden.js"]
CMD ["--help"]
