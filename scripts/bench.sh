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
#   BENCH_SCALE_SHAPES=0      1: also run chain and fanout at each size of BENCH_SCALE_NS and
#                             report nodes/s and the service's memory per size
#   BENCH_SCALE_NS="10 100 1000"   the sizes (the service and sfload run with MAX_WORKFLOW_NODES
#                             and MAX_WORKFLOW_EDGES raised to fit the largest; a size beyond
#                             their caps is reported and replaced by the largest allowed)
#   BENCH_SCALE_RUNS="200 40 8"    runs at each size
#   BENCH_SCALE_INFLIGHT=200  fanout: runs in flight = max(1, this / N), so that about this many
#                             nodes are in flight; chain: min(BENCH_CONCURRENCY, runs) (a chain
#                             has one node in flight per run)
#   BENCH_SCALE_TX=0          1: count transactions in the size phases too (adds ~45 s each)
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

if [[ ${BENCH_SCALE_SHAPES:-0} == 1 ]]; then
	# The sizes need workflows larger than the default limits (500 nodes, 2,000 edges): the
	# service and sfload both run with them raised to fit the largest size (a fanout of N has
	# N + 2 nodes and 2N edges), up to the service's caps (10,000 nodes, 50,000 edges).
	largest=0
	for n in ${BENCH_SCALE_NS:-10 100 1000}; do ((n > largest)) && largest=$n; done
	nodes=$((largest + 2 > 500 ? largest + 2 : 500)) edges=$((2 * largest > 2000 ? 2 * largest : 2000))
	export MAX_WORKFLOW_NODES=$((nodes < 10000 ? nodes : 10000)) MAX_WORKFLOW_EDGES=$((edges < 50000 ? edges : 50000))
	echo "== workflow limits for the sizes: MAX_WORKFLOW_NODES=$MAX_WORKFLOW_NODES MAX_WORKFLOW_EDGES=$MAX_WORKFLOW_EDGES"
fi

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

scale_results=()
if [[ ${BENCH_SCALE_SHAPES:-0} == 1 ]]; then
	read -r -a scale_ns <<<"${BENCH_SCALE_NS:-10 100 1000}"
	read -r -a scale_runs <<<"${BENCH_SCALE_RUNS:-200 40 8}"
	scale_inflight=${BENCH_SCALE_INFLIGHT:-200}
	scale_tx=false
	[[ ${BENCH_SCALE_TX:-0} == 1 ]] && scale_tx=true
	if ((${#scale_ns[@]} != ${#scale_runs[@]})); then
		echo "bench: BENCH_SCALE_NS and BENCH_SCALE_RUNS must have as many entries" >&2
		exit 1
	fi
	declare -A max_n
	while read -r shape n; do max_n[$shape]=$n; done < <(bin/sfload limits)
	memory=$out/scale-memory.tsv
	: >"$memory"
	for shape in chain fanout; do
		for i in "${!scale_ns[@]}"; do
			n=${scale_ns[$i]} r=${scale_runs[$i]}
			if ((n > max_n[$shape])); then
				echo "== finding: $shape at N=$n exceeds the service's workflow limits (MAX_WORKFLOW_NODES=$MAX_WORKFLOW_NODES," \
					"MAX_WORKFLOW_EDGES=$MAX_WORKFLOW_EDGES); running the largest allowed, N=${max_n[$shape]}"
				n=${max_n[$shape]}
			fi
			if [[ $shape == chain ]]; then
				c=$((concurrency < r ? concurrency : r))
				size=(-n "$n")
			else
				c=$((scale_inflight / n > 1 ? scale_inflight / n : 1))
				size=(-fanout "$n")
			fi
			echo "== size: $shape at N=$n, $r runs, $c in flight"
			rss_before=$(rss_kb "$service_pid")
			peak_file=$out/scale-peak.txt
			echo "$rss_before" >"$peak_file"
			sample_rss "$service_pid" "$peak_file" &
			sampler=$!
			bin/sfload "${common[@]}" "${size[@]}" -shapes "$shape" -concurrency "$c" -runs "$r" -tx="$scale_tx" \
				-out "$out/scale-$shape-$n.json" || status=$?
			kill "$sampler" 2>/dev/null || true
			wait "$sampler" 2>/dev/null || true
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$shape" "$n" "$r" "$c" "$rss_before" "$(cat "$peak_file")" "$(rss_kb "$service_pid")" >>"$memory"
			[[ -f $out/scale-$shape-$n.json ]] && scale_results+=("$out/scale-$shape-$n.json")
		done
	done
fi

echo
echo "== summary"
results=()
for f in concurrency rate light; do
	[[ -f $out/$f.json ]] && results+=("$out/$f.json")
done
if ((${#results[@]} > 0)); then
	bin/sfload report -check "${results[@]}" || status=$?
fi
if ((${#scale_results[@]} > 0)); then
	echo
	echo "== cost by size (chain and fanout at each N; the service is one dev process: API and worker)"
	bin/sfload report -check "${scale_results[@]}" || status=$?
	echo
	echo "memory of the service (VmRSS, sampled every 200 ms; per run in flight = (peak − before) / runs in flight):"
	{
		printf 'workload\truns\tin flight\tnodes/s\tRSS before MB\tpeak MB\tafter MB\tper run in flight kB\n'
		while IFS=$'\t' read -r shape n r c before peak after; do
			nodes=$(jq -r '.[0].nodesPerSec | floor' "$out/scale-$shape-$n.json" 2>/dev/null || echo "?")
			printf '%s-%s\t%s\t%s\t%s\t%.1f\t%.1f\t%.1f\t%d\n' "$shape" "$n" "$r" "$c" "$nodes" \
				"$(mb "$before")" "$(mb "$peak")" "$(mb "$after")" $(((peak - before) / c))
		done <"$memory"
	} | column -t -s $'\t'
fi
if ! kill -0 "$service_pid" 2>/dev/null; then
	echo "bench: the service died during the benchmark; see $out/service.log" >&2
	status=1
fi
loadavg
exit "$status"
