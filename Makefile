# SequenceFlow — `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/sequenceflow
STATICCHECK_VERSION := v0.8.2
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
TEST_REDIS_URL ?= redis://127.0.0.1:6379/9
export TEST_DATABASE_URL TEST_REDIS_URL

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/sequenceflow
	$(GO) build -o $(BIN) ./cmd/sequenceflow

.PHONY: run
run: ## Run API + worker in one process (dev role: migrates, seeds samples) on :3000
	$(GO) run ./cmd/sequenceflow dev

.PHONY: migrate
migrate: ## Apply database migrations to DATABASE_URL
	$(GO) run ./cmd/sequenceflow migrate

.PHONY: services
services: ## Make sure PostgreSQL and Redis for the tests are reachable (starts them with Docker when possible)
	@bash scripts/test-services.sh

.PHONY: test
test: services ## Run every test with the race detector against real PostgreSQL and Redis
	$(GO) test -race -count=1 -timeout 20m ./...

.PHONY: lint
lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

.PHONY: bench
bench: ## Load-test a local service through its REST API and compare with a bare asynq floor (docs/BENCHMARKS.md)
	bash scripts/bench.sh
