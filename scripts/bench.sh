#!/usr/bin/env bash
# Benchmark SequenceFlow (issue 2, "Performance"): build the service and the load generator,
# start the service on fresh state, run the floor and every shape, print one summary table.
# Exits non-zero when a run was stuck or failed, or a node (a join above all) ran twice.
# See docs/BENCHMARKS.md. Every knob is an environment variable:
#
#   BENCH_RUNS=400            runs per shape at fixed concurrency
#   BENCH_CONCURRENCY=20      runs in flight
#   BENCH_FLOOR_RUNS=800      chains the floor runs (its chains are quicker than runs)
#   BENCH_CHAIN_N=10          nodes of the chain shape, hops of a floor chain
#   BENCH_FANOUT_N=10         parallel nodes of the fanout shape
#   BENCH_RATE=20             runs/s of the fixed-rate run (chain)
#   BENCH_RATE_DURATION=20s   how long the fixed-rate run starts runs
#   BENCH_LIGHT_RUNS=100      runs of the light-load run (concurrency 1: hop latency)
#   BENCH_POLL=list           how sfload tracks runs: list or status
#   BENCH_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
#   BENCH_DB=sequenceflow_bench  (dropped and recreated; the floor uses <BENCH_DB>_floor)
#   BENCH_REDIS_URL=redis://127.0.0.1:6379/10
#   BENCH_PORT=               the service's port (default: the first free one from 3900)
#   BENCH_OUT=bin/bench       results (JSON) and the service's log
#   BENCH_EAGER_DISPATCH=true the service's EAGER_DISPATCH (false: every task through the queue)
set -euo pipefail

cd "$(dirname "$0")/.."
name=bench
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

runs=${BENCH_RUNS:-400}
concurrency=${BENCH_CONCURRENCY:-20}
floor_runs=${BENCH_FLOOR_RUNS:-$((runs * 2))}
chain_n=${BENCH_CHAIN_N:-10}
fanout_n=${BENCH_FANOUT_N:-10}
rate=${BENCH_RATE:-20}
rate_duration=${BENCH_RATE_DURATION:-20s}
light_runs=${BENCH_LIGHT_RUNS:-100}
poll=${BENCH_POLL:-list}
admin_url=${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
db=${BENCH_DB:-sequenceflow_bench}
floor_db=${db}_floor
redis_url=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/10}
out=${BENCH_OUT:-bin/bench}
eager=${BENCH_EAGER_DISPATCH:-true}
queue=sfbench
floor_queue=sfbench-floor

port=$(free_port)
base=http://127.0.0.1:$port
db_url=$(with_database "$admin_url" "$db")
floor_db_url=$(with_database "$admin_url" "$floor_db")

loadavg

build_binaries "$out"

echo "== fresh databases $db, $floor_db and queues $queue, $floor_queue on $redis_url"
bin/sfload prepare -admin-url "$admin_url" -databases "$db,$floor_db" -redis-url "$redis_url" -queues "$queue,$floor_queue"

echo "== start the service on $base (EAGER_DISPATCH=$eager; log: $out/service.log)"
DATABASE_URL=$db_url REDIS_URL=$redis_url QUEUE_NAME=$queue PORT=$port API_BASE_URL=$base EAGER_DISPATCH=$eager \
	SEED_SAMPLES=false LOG_LEVEL=warn bin/sequenceflow dev >"$out/service.log" 2>&1 &
service_pid=$!
stop_service() {
	if kill -0 "$service_pid" 2>/dev/null; then
		kill "$service_pid" 2>/dev/null || true
		wait "$service_pid" 2>/dev/null || true
	fi
}
trap stop_service EXIT

for _ in $(seq 1 120); do
	if ! kill -0 "$service_pid" 2>/dev/null; then
		echo "bench: the service exited; its log:" >&2
		cat "$out/service.log" >&2
		exit 1
	fi
	if curl -fsS "$base/health" >/dev/null 2>&1; then break; fi
	sleep 0.5
done
curl -fsS "$base/health" >/dev/null || { echo "bench: the service is not healthy after 60 s" >&2; exit 1; }

common=(-base "$base" -database-url "$db_url" -poll "$poll" -n "$chain_n" -fanout "$fanout_n" -check=false)
floor=(-floor -floor-database-url "$floor_db_url" -floor-redis-url "$redis_url" -floor-queue "$floor_queue")
status=0

echo "== fixed concurrency: the floor, then every shape ($concurrency in flight, $runs runs each)"
bin/sfload "${common[@]}" "${floor[@]}" -floor-runs "$floor_runs" -shapes chain,fanout,ifelse,apicall \
	-concurrency "$concurrency" -runs "$runs" -out "$out/concurrency.json" || status=$?

echo "== fixed rate: chain at $rate runs/s for $rate_duration"
bin/sfload "${common[@]}" -shapes chain -rate "$rate" -duration "$rate_duration" -tx=false \
	-out "$out/rate.json" || status=$?

echo "== light load: the floor, chain and fanout, one run in flight ($light_runs runs)"
bin/sfload "${common[@]}" "${floor[@]}" -shapes chain,fanout -concurrency 1 -runs "$light_runs" -tx=false \
	-out "$out/light.json" || status=$?

echo
echo "== summary"
results=()
for f in concurrency rate light; do
	[[ -f $out/$f.json ]] && results+=("$out/$f.json")
done
if ((${#results[@]} > 0)); then
	bin/sfload report -check "${results[@]}" || status=$?
fi
if ! kill -0 "$service_pid" 2>/dev/null; then
	echo "bench: the service died during the benchmark; see $out/service.log" >&2
	status=1
fi
loadavg
exit "$status"
