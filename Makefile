# SequenceFlow — `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/sequenceflow
STATICCHECK_VERSION := v0.8.2
TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable
TEST_REDIS_URL ?= redis://127.0.0.1:6379/9
# TEST_PG_CONNS caps the PostgreSQL connections of all tests together (internal/testenv;
# default 28); TEST_TIME_SCALE multiplies every test deadline (default 1, more below 4 CPUs);
# TEST_P is how many test packages run at once (go test -p; default: the number of CPUs).
TEST_P ?=
export TEST_DATABASE_URL TEST_REDIS_URL

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/sequenceflow
	$(GO) build -o $(BIN) ./cmd/sequenceflow

.PHONY: run
run: ## Run API + worker in one process (dev role: migrates, seeds samples) on 127.0.0.1:3000
	$(GO) run ./cmd/sequenceflow dev

.PHONY: migrate
migrate: ## Apply database migrations to DATABASE_URL
	$(GO) run ./cmd/sequenceflow migrate

.PHONY: services
services: ## Make sure PostgreSQL and Redis for the tests are reachable (starts them with Docker when possible)
	@bash scripts/test-services.sh

.PHONY: pg-headroom
pg-headroom: services ## Check that PostgreSQL's max_connections has room for the test suite's connections
	@$(GO) run ./scripts/pgheadroom $(if $(TEST_P),-p $(TEST_P))

.PHONY: test
test: pg-headroom ## Run every test with the race detector against real PostgreSQL and Redis, then fuzz each target briefly
	$(GO) test -race -count=1 -timeout 20m $(if $(TEST_P),-p $(TEST_P)) ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=10s

# Fuzz targets, as package:Target.
FUZZ_TARGETS := ./internal/httpapi:FuzzWorkflowDefinition ./internal/httpapi:FuzzExecuteBody \
	./internal/httpapi:FuzzCheckText ./internal/expr:FuzzRender ./internal/expr:FuzzParseRuleEval \
	./internal/store:FuzzTranslate ./internal/store:FuzzTransitionStoresAnyValue
FUZZTIME ?= 2m

.PHONY: fuzz
fuzz: ## Fuzz every target for FUZZTIME each (default 2m; make test uses 10s); crashers land in testdata/fuzz
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; echo "fuzz $$name ($$pkg) for $(FUZZTIME)"; \
		out=$$($(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s $$pkg 2>&1); status=$$?; \
		echo "$$out" | tail -3; \
		if [ $$status -ne 0 ]; then \
			if echo "$$out" | grep -q "Failing input written"; then echo "$$out"; exit 1; fi; \
			if ! echo "$$out" | grep -q "context deadline exceeded"; then echo "$$out"; exit 1; fi; \
			echo "fuzz $$name: the fuzzer hit its time limit mid-input (no failing input); not a failure"; \
		fi; \
	done

.PHONY: lint
lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

.PHONY: bench
bench: ## Load-test a local service through its REST API and compare with a bare asynq floor (docs/BENCHMARKS.md)
	bash scripts/bench.sh

.PHONY: bench-scale
bench-scale: ## One API and 1, 2, 4 workers: chain-10 throughput and PostgreSQL/Redis CPU per node, tail latency at 50/80 % of capacity (docs/BENCHMARKS.md)
	bash scripts/bench-scale.sh

.PHONY: bench-ab
bench-ab: ## A change measured side by side: the service at BENCH_AB_BASE (default HEAD) against the working tree, alternating (docs/BENCHMARKS.md)
	bash scripts/bench-ab.sh

.PHONY: bench-search
bench-search: services ## Plans and timings of run search on 1,000,000 runs (SEARCH_BENCH_RUNS to change; docs/BENCHMARKS.md)
	$(GO) test -run='^$$' -bench='^BenchmarkSearchRunsMillion$$' -benchtime=1x -timeout 30m -v ./internal/store/

.PHONY: bench-retention
bench-retention: ## Prune a million expired runs under live traffic; latency with and without pruning (docs/BENCHMARKS.md)
	bash scripts/bench-retention.sh

.PHONY: tools
tools: bin/jaeger ## Build the tools the end-to-end checks run (Jaeger, from the separate tools module)

bin/jaeger: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../bin/jaeger github.com/jaegertracing/jaeger/cmd/jaeger

.PHONY: e2e-observability
e2e-observability: tools services ## Run the API and a worker against a real Jaeger and Prometheus and check traces, dashboards and alerts
	@command -v prometheus >/dev/null || { echo "prometheus not found: apt-get install prometheus"; exit 1; }
	$(GO) test -tags e2e -count=1 -timeout 15m -v ./e2e/

# --- Docker Compose stacks (docker-compose.dev.yml, docker-compose.prod.yml) ---
# COMPOSE is the Compose command (docker-compose for the standalone one); STACK=prod points
# ps, logs-*, down and down-volumes at the production stack.
COMPOSE ?= docker compose
STACK ?= dev
N ?= 3
COMPOSE_STACK = $(COMPOSE) -f docker-compose.$(STACK).yml

.PHONY: docker-dev docker-prod scale logs-api logs-worker ps down down-volumes compose-config
docker-dev: ## Build and start the development stack (hot reload, dashboards) in the foreground
	$(COMPOSE) -f docker-compose.dev.yml up --build

docker-prod: export SEQUENCEFLOW_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
docker-prod: ## Build and start the production stack in the background (set the passwords and API_KEYS in .env first)
	$(COMPOSE) -f docker-compose.prod.yml up -d --build

scale: ## Run N workers in the development stack, e.g. make scale N=5
	$(COMPOSE) -f docker-compose.dev.yml up -d --scale worker=$(N) --no-recreate

logs-api: ## Follow the API's logs (STACK=prod for production)
	$(COMPOSE_STACK) logs -f api

logs-worker: ## Follow every worker's logs (STACK=prod for production)
	$(COMPOSE_STACK) logs -f worker

ps: ## Show the stack's containers and their health (STACK=prod for production)
	$(COMPOSE_STACK) ps

down: ## Stop and remove the stack's containers; data volumes are kept (STACK=prod for production)
	$(COMPOSE_STACK) down

down-volumes: ## Stop the stack and DELETE its data volumes: database, queue, metrics (asks first; FORCE=1 skips)
	@if [ "$(FORCE)" != 1 ]; then \
		read -r -p "Delete the $(STACK) stack's volumes (PostgreSQL, Redis, Prometheus, Grafana data)? [y/N] " answer; \
		case "$$answer" in [yY]|[yY][eE][sS]) ;; *) echo "Nothing deleted."; exit 1;; esac; \
	fi
	$(COMPOSE_STACK) down -v

compose-config: ## Validate both compose files (docker compose config when installed, and the checks in deploy/)
	@if $(COMPOSE) version >/dev/null 2>&1; then \
		$(COMPOSE) -f docker-compose.dev.yml config -q && \
		POSTGRES_PASSWORD=x REDIS_PASSWORD=x REDIS_COMMANDER_PASSWORD=x GRAFANA_ADMIN_PASSWORD=x API_KEYS=x \
			$(COMPOSE) -f docker-compose.prod.yml config -q && \
		echo "compose-config: both files valid for $$($(COMPOSE) version --short)"; \
	else \
		echo "compose-config: '$(COMPOSE)' is not installed; the Go checks validate the files"; \
	fi
	$(GO) test -count=1 -run 'Compose' ./deploy/
