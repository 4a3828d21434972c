#!/usr/bin/env bash
# Compare two builds of SequenceFlow side by side (docs/BENCHMARKS.md, "Measuring a change"):
# A is the service at a git revision, B the working tree. Each round starts both on fresh state,
# A first in odd rounds and B first in even ones, and runs the same shapes at the same
# concurrency, so the noise and drift of a shared machine fall on both alike; the report lists
# every round, labelled by build and round.
#
#   BENCH_AB_BASE=HEAD        the revision A is built from (a worktree under BENCH_OUT)
#   BENCH_AB_ROUNDS=2         rounds (A B, then B A, …)
#   BENCH_AB_SHAPES=chain,fanout,ifelse,apicall
#   BENCH_RUNS=400  BENCH_CONCURRENCY=20  BENCH_CHAIN_N=10  BENCH_FANOUT_N=10
#   BENCH_ADMIN_URL, BENCH_DB, BENCH_REDIS_URL, BENCH_PORT, BENCH_EAGER_DISPATCH as bench.sh
#   BENCH_OUT=bin/bench-ab    results (JSON), the builds and the services' logs
set -euo pipefail

cd "$(dirname "$0")/.."
name=bench-ab
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

base_rev=${BENCH_AB_BASE:-HEAD}
rounds=${BENCH_AB_ROUNDS:-2}
shapes=${BENCH_AB_SHAPES:-chain,fanout,ifelse,apicall}
runs=${BENCH_RUNS:-400}
concurrency=${BENCH_CONCURRENCY:-20}
chain_n=${BENCH_CHAIN_N:-10}
fanout_n=${BENCH_FANOUT_N:-10}
admin_url=${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
db=${BENCH_DB:-sequenceflow_bench}
redis_url=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/10}
eager=${BENCH_EAGER_DISPATCH:-true}
out=${BENCH_OUT:-bin/bench-ab}
queue=sfbench

port=$(free_port)
base=http://127.0.0.1:$port
db_url=$(with_database "$admin_url" "$db")

loadavg
echo "== build B (the working tree) and the load generator"
mkdir -p "$out/b" "$out/a"
rm -f "$out"/*.json
go build -o "$out/b/sequenceflow" ./cmd/sequenceflow
go build -o bin/sfload ./cmd/sfload

rev=$(git rev-parse --short "$base_rev")
echo "== build A ($base_rev = $rev)"
tree=$out/a/src
git worktree remove --force "$tree" 2>/dev/null || rm -rf "$tree"
git worktree add --detach "$tree" "$base_rev" >/dev/null
(cd "$tree" && go build -o ../sequenceflow ./cmd/sequenceflow)
git worktree remove --force "$tree"

trap stop_service EXIT

status=0
for round in $(seq 1 "$rounds"); do
	order="a b"
	((round % 2 == 0)) && order="b a" # A B, B A, …: a machine that drifts over time favours neither
	for build in $order; do
		label=$(tr a-z A-Z <<<"$build")$round
		bin/sfload prepare -admin-url "$admin_url" -databases "$db" -redis-url "$redis_url" -queues "$queue" >/dev/null
		DATABASE_URL=$db_url REDIS_URL=$redis_url QUEUE_NAME=$queue PORT=$port API_BASE_URL=$base EAGER_DISPATCH=$eager \
			SEED_SAMPLES=false LOG_LEVEL=warn "$out/$build/sequenceflow" dev >"$out/service-$label.log" 2>&1 &
		service_pid=$!
		for _ in $(seq 1 120); do
			curl -fsS "$base/health" >/dev/null 2>&1 && break
			kill -0 "$service_pid" 2>/dev/null || { cat "$out/service-$label.log" >&2; exit 1; }
			sleep 0.5
		done
		echo "== round $round, build $build: $shapes at $concurrency in flight, $runs runs each"
		bin/sfload -base "$base" -database-url "$db_url" -n "$chain_n" -fanout "$fanout_n" -check=false \
			-shapes "$shapes" -concurrency "$concurrency" -runs "$runs" -label "$label" -out "$out/$label.json" || status=$?
		stop_service
	done
done

echo
echo "== summary (A = $rev, B = the working tree; compare A and B of the same round first)"
files=()
for round in $(seq 1 "$rounds"); do files+=("$out/A$round.json" "$out/B$round.json"); done
bin/sfload report -check "${files[@]}" || status=$?
loadavg
exit "$status"
