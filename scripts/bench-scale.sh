#!/usr/bin/env bash
# Scale-out: one `sequenceflow api` process and N `sequenceflow worker` processes on one
# database and queue, chain-10 at a fixed concurrency for each N, with what each node costs
# PostgreSQL, Redis and the service's processes, and the connections each worker holds; then
# open-loop runs at 50 % and 80 % of the measured capacity for the tail latency. See
# docs/BENCHMARKS.md, "Scale-out". Knobs:
#
#   BENCH_WORKERS="1 2 4"      worker counts, one closed-loop phase each (commas work too)
#   BENCH_RUNS=400             runs per closed-loop phase
#   BENCH_CONCURRENCY=20       runs in flight in the closed-loop phases
#   BENCH_CHAIN_N=10           nodes of the chain
#   BENCH_TAIL_WORKERS=        worker count of the open-loop phases (default: the first of
#                              BENCH_WORKERS); capacity is that phase's closed-loop runs/s
#   BENCH_TAIL_LOADS="50 80"   open-loop rates, in % of the capacity
#   BENCH_TAIL_DURATION=20s    how long each open-loop phase starts runs
#   BENCH_EAGER_DISPATCH=true  the workers' EAGER_DISPATCH
#   BENCH_WORKER_CONCURRENCY=  the workers' WORKER_CONCURRENCY (default: the service's, 10)
#   BENCH_SCALE_REDIS=private  private: a redis-server of its own on a free port, so that its
#                              CPU is the benchmark's alone; shared: BENCH_REDIS_URL
#   BENCH_POLL=list            how sfload tracks runs
#   BENCH_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
#   BENCH_DB=sequenceflow_bench_scale  (dropped and recreated)
#   BENCH_REDIS_URL=redis://127.0.0.1:6379/10
#   BENCH_PORT=                the API's port (default: the first free one from 3900); the
#                              workers' METRICS_ADDR and the private Redis take the next free ones
#   BENCH_OUT=bin/bench-scale  results (JSON), the processes' logs
set -euo pipefail

cd "$(dirname "$0")/.."
name=bench-scale
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

read -r -a worker_counts <<<"$(tr ',' ' ' <<<"${BENCH_WORKERS:-1 2 4}")"
runs=${BENCH_RUNS:-400}
concurrency=${BENCH_CONCURRENCY:-20}
chain_n=${BENCH_CHAIN_N:-10}
tail_workers=${BENCH_TAIL_WORKERS:-${worker_counts[0]}}
read -r -a tail_loads <<<"${BENCH_TAIL_LOADS:-50 80}"
tail_duration=${BENCH_TAIL_DURATION:-20s}
eager=${BENCH_EAGER_DISPATCH:-true}
worker_concurrency=${BENCH_WORKER_CONCURRENCY:-}
redis_mode=${BENCH_SCALE_REDIS:-private}
poll=${BENCH_POLL:-list}
admin_url=${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
db=${BENCH_DB:-sequenceflow_bench_scale}
redis_url=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/10}
out=${BENCH_OUT:-bin/bench-scale}
queue=sfbench-scale
tck=$(getconf CLK_TCK)

port=$(free_port)
base=http://127.0.0.1:$port
db_url=$(with_database "$admin_url" "$db")
taken=("$port")

pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

loadavg
build_binaries "$out"
rm -f "$out"/*.log

if [[ $redis_mode == private ]]; then
	command -v redis-server >/dev/null || { echo "$name: redis-server not found (or set BENCH_SCALE_REDIS=shared)" >&2; exit 1; }
	redis_port=$(first_free_port $((port + 1)) "${taken[@]}")
	taken+=("$redis_port")
	redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
		>"$out/redis.log" 2>&1 &
	pids+=($!)
	redis_url=redis://127.0.0.1:$redis_port/0
	for _ in $(seq 1 40); do redis-cli -u "$redis_url" PING >/dev/null 2>&1 && break; sleep 0.25; done
	redis-cli -u "$redis_url" PING >/dev/null || { echo "$name: the private Redis did not start; see $out/redis.log" >&2; exit 1; }
fi

echo "== fresh database $db and queue $queue on $redis_url"
bin/sfload prepare -admin-url "$admin_url" -databases "$db" -redis-url "$redis_url" -queues "$queue"
DATABASE_URL=$db_url LOG_LEVEL=warn bin/sequenceflow migrate

service_env=(REDIS_URL="$redis_url" QUEUE_NAME="$queue" API_BASE_URL="$base" EAGER_DISPATCH="$eager"
	SEED_SAMPLES=false LOG_LEVEL=warn)
[[ -n $worker_concurrency ]] && service_env+=(WORKER_CONCURRENCY="$worker_concurrency")

echo "== start the API on $base (log: $out/api.log)"
env "${service_env[@]}" DATABASE_URL="$(with_app_name "$db_url" sfbench-api)" PORT="$port" LISTEN_ADDR=127.0.0.1 \
	bin/sequenceflow api >"$out/api.log" 2>&1 &
api_pid=$!
pids+=("$api_pid")
wait_http "$base/health" "$api_pid" 60 || { echo "$name: the API did not become healthy; its log:" >&2; cat "$out/api.log" >&2; exit 1; }

worker_pids=()
start_workers() { # start_workers N: as many workers as needed for N in all
	local want=$1 i mport wpid
	for ((i = ${#worker_pids[@]} + 1; i <= want; i++)); do
		mport=$(first_free_port $((port + 1)) "${taken[@]}")
		taken+=("$mport")
		env "${service_env[@]}" DATABASE_URL="$(with_app_name "$db_url" "sfbench-worker-$i")" METRICS_ADDR="127.0.0.1:$mport" \
			bin/sequenceflow worker >"$out/worker-$i.log" 2>&1 &
		wpid=$!
		pids+=("$wpid")
		worker_pids+=("$wpid")
		wait_http "http://127.0.0.1:$mport/readyz" "$wpid" 60 ||
			{ echo "$name: worker $i did not become ready; its log:" >&2; cat "$out/worker-$i.log" >&2; exit 1; }
	done
}
stop_workers() { # stop_workers N: keep the first N
	local keep=$1
	while ((${#worker_pids[@]} > keep)); do
		local last=${worker_pids[-1]}
		kill "$last" 2>/dev/null || true
		wait "$last" 2>/dev/null || true
		unset 'worker_pids[-1]'
	done
}

# Resource readings: PostgreSQL backends of the benchmark's database (per pid, so that a
# backend that started during the phase counts from zero), Redis, the service's processes,
# the whole machine.
declare -A pg_before
read_pg() { local pid; pg_before=(); for pid in $(pg_backend_pids "$db"); do pg_before[$pid]=$(cpu_ticks "$pid"); done; }
pg_delta() {
	local pid total=0 now
	for pid in $(pg_backend_pids "$db"); do
		now=$(cpu_ticks "$pid")
		total=$((total + now - ${pg_before[$pid]:-0}))
	done
	echo "$total"
}
machine_ticks() { awk '/^cpu / { idle = $5 + $6; total = 0; for (i = 2; i <= NF; i++) total += $i; print idle, total }' /proc/stat; }
connections() { # "app=count ..." of the database's connections, by application_name
	psql -X -A -t -F= "$admin_url" -c "SELECT application_name, count(*) FROM pg_stat_activity
		WHERE datname = '$db' AND application_name LIKE 'sfbench-%' GROUP BY 1 ORDER BY 1" | tr '\n' ' '
}

common=(-base "$base" -database-url "$(with_app_name "$db_url" sfload)" -poll "$poll" -n "$chain_n" -shapes chain -tx=false -check=false)
status=0
resources=$out/resources.tsv
: >"$resources"
results=()
capacity=

for w in "${worker_counts[@]}"; do
	start_workers "$w"
	stop_workers "$w"
	echo "== $w worker(s): chain-$chain_n, $concurrency in flight, $runs runs"
	read_pg
	redis0=$(redis_cpu_seconds "$redis_url")
	svc0=$(cpu_ticks "$api_pid" "${worker_pids[@]}")
	api0=$(cpu_ticks "$api_pid")
	read -r idle0 total0 <<<"$(machine_ticks)"
	bin/sfload "${common[@]}" -concurrency "$concurrency" -runs "$runs" -label "workers=$w" \
		-out "$out/workers-$w.json" || status=$?
	pg=$(pg_delta)
	redis1=$(redis_cpu_seconds "$redis_url")
	svc1=$(cpu_ticks "$api_pid" "${worker_pids[@]}")
	api1=$(cpu_ticks "$api_pid")
	read -r idle1 total1 <<<"$(machine_ticks)"
	conns=$(connections)
	rss="$(mb "$(rss_kb "$api_pid")") /"
	for pid in "${worker_pids[@]}"; do rss+=" $(mb "$(rss_kb "$pid")")"; done
	[[ -f $out/workers-$w.json ]] || continue
	results+=("$out/workers-$w.json")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$pg" "$(awk -v a="$redis0" -v b="$redis1" 'BEGIN { print b - a }')" \
		$((svc1 - svc0)) $((api1 - api0)) $((idle1 - idle0)) $((total1 - total0)) "$conns" "$rss" "$out/workers-$w.json" >>"$resources"
	if [[ $w == "$tail_workers" ]]; then
		capacity=$(jq -r '.[0].runsPerSec * 10 | round / 10' "$out/workers-$w.json")
		for pct in "${tail_loads[@]}"; do
			rate=$(awk -v c="$capacity" -v p="$pct" 'BEGIN { printf "%.1f", c * p / 100 }')
			echo "== $w worker(s): open loop at $pct % of the capacity ($capacity runs/s): $rate runs/s for $tail_duration"
			bin/sfload "${common[@]}" -rate "$rate" -duration "$tail_duration" -label "workers=$w, ${pct}% of capacity" \
				-out "$out/tail-$w-$pct.json" || status=$?
			[[ -f $out/tail-$w-$pct.json ]] && results+=("$out/tail-$w-$pct.json")
		done
	fi
done

echo
echo "== summary"
if ((${#results[@]} > 0)); then
	bin/sfload report -check "${results[@]}" || status=$?
fi
echo
echo "resources per node execution (CPU ms per node; PostgreSQL: the backends of $db; Redis: $redis_mode server;"
echo "service: the API and the workers; busy: the whole machine, $(nproc) cores; RSS and connections at the end of the phase):"
{
	printf 'workers\tnodes/s\tvs 1 worker\tbusy %%\tPostgreSQL ms/node\tRedis ms/node\tAPI ms/node\tworkers ms/node\tRSS MB (API / workers)\tconnections\n'
	first=
	while IFS=$'\t' read -r w pg redis svc api idle total conns rss file; do
		nodes=$(jq -r '.[0].nodeExecutions' "$file")
		nps=$(jq -r '.[0].nodesPerSec' "$file")
		first=${first:-$nps}
		awk -v w="$w" -v pg="$pg" -v redis="$redis" -v svc="$svc" -v api="$api" -v idle="$idle" -v total="$total" \
			-v nodes="$nodes" -v nps="$nps" -v first="$first" -v tck="$tck" -v conns="$conns" -v rss="$rss" 'BEGIN {
			if (nodes <= 0) nodes = 1
			printf "%s\t%.0f\t%.2f×\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%s\t%s\n", w, nps, nps / first, 100 * (1 - idle / total),
				1000 * pg / tck / nodes, 1000 * redis / nodes, 1000 * api / tck / nodes, 1000 * (svc - api) / tck / nodes, rss, conns
		}'
	done <"$resources"
} | column -t -s $'\t'
if [[ -n $capacity ]]; then
	echo
	for pct in "${tail_loads[@]}"; do
		f=$out/tail-$tail_workers-$pct.json
		[[ -f $f ]] || continue
		jq -r --arg pct "$pct" --arg cap "$capacity" '.[0] | "open loop at \($pct) % of \($cap) runs/s (\(.rate) runs/s, \(.started) runs, \(.skipped // 0) skipped): run p99 \(.runLatency.p99 / 1e6 | . * 100 | round / 100) ms, p50 \(.runLatency.p50 / 1e6 | . * 100 | round / 100) ms"' "$f"
	done
fi
for pid in "$api_pid" "${worker_pids[@]}"; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "$name: a service process died during the benchmark; see $out/*.log" >&2
		status=1
	fi
done
loadavg
exit "$status"
