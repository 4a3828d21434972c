# syntax=docker/dockerfile:1
#
# One image for every role: `docker run IMAGE api|worker|migrate|dev`.
#
#   docker build -t sequenceflow:dev --build-arg VERSION=$(git describe --tags --always --dirty) .
#
# Stages: `modules` (go.mod/go.sum and the module download, a layer that survives source edits),
# `build` (the static binary), `dev` (Go toolchain + dev-reload.sh, source bind-mounted by
# docker-compose.dev.yml) and the final, default `runtime` stage (distroless, non-root).

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-alpine AS modules
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN go mod download && go mod verify

FROM modules AS build
ARG VERSION=dev
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
	go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/sequenceflow ./cmd/sequenceflow

# Development: the repository is bind-mounted on /src at run time and deploy/compose/dev-reload.sh
# rebuilds and restarts the role whenever a Go file, go.mod/go.sum or a migration changes.
FROM modules AS dev
COPY --chmod=0755 deploy/compose/dev-reload.sh /usr/local/bin/dev-reload
ENTRYPOINT ["/usr/local/bin/dev-reload"]
CMD ["api"]

FROM gcr.io/distroless/static-debian12:nonroot AS runtime
ARG VERSION=dev
LABEL org.opencontainers.image.title="sequenceflow" \
	org.opencontainers.image.description="SequenceFlow workflow engine: api, worker, migrate and dev roles" \
	org.opencontainers.image.version="${VERSION}" \
	org.opencontainers.image.source="https://github.com/sequenceflow/sequenceflow"
COPY --from=build /out/sequenceflow /sequenceflow
# 65532 is distroless's `nonroot` user.
USER 65532:65532
# 3000: API (PORT); 9091: worker health and metrics (METRICS_ADDR).
EXPOSE 3000 9091
# The image has no shell or curl: the binary checks itself. The worker's compose service
# overrides the URL with its health port (:9091).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
	CMD ["/sequenceflow", "healthcheck", "http://127.0.0.1:3000/healthz"]
ENTRYPOINT ["/sequenceflow"]
CMD ["api"]
