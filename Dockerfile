# The Sluice image: the control plane (`sluice server`), a warm worker (`sluice worker`) and
# an attempt's pod (`sluice worker --attempt-env SLUICE_ATTEMPT`). It cannot be built on the
# development machines (no Docker engine there), and no test depends on it.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY . .
# The web UI, built once here; the runtime finds it by the hash of ui/ and needs no Vite.
RUN npm run ui:build

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/node_modules/.cache/sluice-ui node_modules/.cache/sluice-ui
COPY bin bin
COPY src src
COPY pipelines pipelines
COPY ui ui
RUN ln -s /app/bin/sluice.mjs /usr/local/bin/sluice
# The restricted pod security profile: non-root, and a read-only root file system (state
# lives under /tmp, an emptyDir in the chart).
USER 10001:10001
ENV SLUICE_HOME=/tmp/sluice
EXPOSE 8080
ENTRYPOINT ["sluice"]
CMD ["server", "--host", "0.0.0.0", "--port", "8080"]
