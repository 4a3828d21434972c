#!/usr/bin/env bash
# Retention under live traffic (issue 10, item 5): fill a service's database with a million
# runs that finished long ago (each with tasks and logs), then measure live workflow traffic
# twice on that same table, first with the pruner off (RUN_RETENTION=0) and then while the
# pruner deletes the backlog (RUN_RETENTION=30d), and report hop and run latency side by side
# with the prune throughput. See docs/BENCHMARKS.md, "Retention under live traffic". Knobs:
#
#   RETENTION_BENCH_RUNS=1000000   expired runs written before the load
#   RETENTION_BENCH_TASKS=2        tasks per expired run
#   RETENTION_BENCH_LOGS=2         log lines per expired run
#   RETENTION_BENCH_RATE=20        live chain runs started per second (open loop)
#   RETENTION_BENCH_DURATION=60s   how long each live phase starts runs
#   RETENTION_BENCH_ROUNDS=2       rounds of (a phase without pruning, a phase while pruning)
#   RETENTION_BATCH=500            the pruner's batch (runs per delete statement)
#   RETENTION_BATCH_PAUSE=100ms    the pruner's pause between batches
#   BENCH_CHAIN_N=10               nodes of the live chain
#   BENCH_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
#   BENCH_DB=sequenceflow_bench_retention  (dropped and recreated)
#   BENCH_REDIS_URL=redis://127.0.0.1:6379/10
#   BENCH_PORT=                    the service's port (default: the first free one from 3900)
#   BENCH_OUT=bin/bench-retention  results (JSON) and the service's logs
set -euo pipefail

cd "$(dirname "$0")/.."
name=bench-retention
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

history_runs=${RETENTION_BENCH_RUNS:-1000000}
history_tasks=${RETENTION_BENCH_TASKS:-2}
history_logs=${RETENTION_BENCH_LOGS:-2}
rate=${RETENTION_BENCH_RATE:-20}
rounds=${RETENTION_BENCH_ROUNDS:-2}
duration=${RETENTION_BENCH_DURATION:-60s}
batch=${RETENTION_BATCH:-500}
pause=${RETENTION_BATCH_PAUSE:-100ms}
chain_n=${BENCH_CHAIN_N:-10}
admin_url=${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
db=${BENCH_DB:-sequenceflow_bench_retention}
redis_url=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/10}
out=${BENCH_OUT:-bin/bench-retention}
queue=sfbench-retention

port=$(free_port)
base=http://127.0.0.1:$port
db_url=$(with_database "$admin_url" "$db")

loadavg

build_binaries "$out"

echo "== fresh database $db and queue $queue on $redis_url"
bin/sfload prepare -admin-url "$admin_url" -databases "$db" -redis-url "$redis_url" -queues "$queue"
DATABASE_URL=$db_url LOG_LEVEL=warn bin/sequenceflow migrate

echo "== history: $history_runs runs that finished 60 days ago, $history_tasks tasks and $history_logs logs each"
bin/sfload history -database-url "$db_url" -runs "$history_runs" -tasks "$history_tasks" -logs "$history_logs" -age 1440h

trap stop_service EXIT

# start_service NAME RUN_RETENTION starts the dev role (API and one worker) and waits for it.
start_service() {
	DATABASE_URL=$db_url REDIS_URL=$redis_url QUEUE_NAME=$queue PORT=$port API_BASE_URL=$base \
		SEED_SAMPLES=false LOG_LEVEL=info RUN_RETENTION=$2 RETENTION_INTERVAL=1s \
		RETENTION_BATCH=$batch RETENTION_BATCH_PAUSE=$pause \
		bin/sequenceflow dev >"$out/service-$1.log" 2>&1 &
	service_pid=$!
	for _ in $(seq 1 120); do
		if ! kill -0 "$service_pid" 2>/dev/null; then
			echo "bench-retention: the service exited; its log:" >&2
			cat "$out/service-$1.log" >&2
			exit 1
		fi
		if curl -fsS "$base/health" >/dev/null 2>&1; then return 0; fi
		sleep 0.5
	done
	echo "bench-retention: the service is not healthy after 60 s" >&2
	exit 1
}

# metric NAME prints a sample of the service's /metrics (0 when absent).
metric() { curl -fsS "$base/metrics" | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'; }
now() { date +%s.%N; }

live=(-base "$base" -database-url "$db_url" -n "$chain_n" -shapes chain -rate "$rate" -duration "$duration" -tx=false -check=false)
status=0

# The first minute on a freshly written million runs is not representative (a checkpoint of
# the fill, cold caches): a warm-up phase, not reported, absorbs it.
echo "== warm-up: chain-$chain_n at $rate runs/s for 20s, not reported (RUN_RETENTION=0)"
start_service warmup 0
bin/sfload -base "$base" -database-url "$db_url" -n "$chain_n" -shapes chain -rate "$rate" -duration 20s -tx=false -check=false >/dev/null || true
stop_service

# The machine's other work varies over minutes, so the two settings alternate: ROUNDS rounds
# of one phase without pruning and one while pruning, the same load each time.
pruned_live=0
live_secs=0
results=()
for round in $(seq 1 "$rounds"); do
	echo "== round $round: live traffic without pruning: chain-$chain_n at $rate runs/s for $duration (RUN_RETENTION=0)"
	start_service "baseline-$round" 0
	bin/sfload "${live[@]}" -label "(no pruning, $round)" -out "$out/baseline-$round.json" || status=$?
	stop_service
	results+=("$out/baseline-$round.json")

	echo "== round $round: the same load while pruning: RUN_RETENTION=30d, batch $batch, pause $pause"
	start_service "pruning-$round" 30d
	t0=$(now)
	p0=$(metric sequenceflow_retention_pruned_runs_total)
	bin/sfload "${live[@]}" -label "(pruning, $round)" -out "$out/pruning-$round.json" || status=$?
	t1=$(now)
	p1=$(metric sequenceflow_retention_pruned_runs_total)
	results+=("$out/pruning-$round.json")
	pruned_live=$(awk -v a="$pruned_live" -v b="$p1" -v c="$p0" 'BEGIN { print a + b - c }')
	live_secs=$(awk -v a="$live_secs" -v b="$t1" -v c="$t0" 'BEGIN { print a + b - c }')
	if (( round < rounds )); then stop_service; fi
done
p1=$(metric sequenceflow_retention_pruned_runs_total)
t1=$(now)

echo "== the rest of the backlog, without traffic"
# Done when the oldest finished run kept is younger than the window (the gauge reads the
# database, whatever each service's counter saw).
deadline=$(( $(date +%s) + 3600 ))
while (( $(date +%s) < deadline )); do
	oldest=$(metric sequenceflow_retention_oldest_run_age_seconds)
	awk -v o="$oldest" 'BEGIN { exit !(o < 30 * 86400) }' && break
	sleep 1
done
t2=$(now)
p2=$(metric sequenceflow_retention_pruned_runs_total)
oldest=$(metric sequenceflow_retention_oldest_run_age_seconds)
passes_failed=$(curl -fsS "$base/metrics" | awk '$1 == "sequenceflow_retention_passes_total{result=\"error\"}" { print $2 }')
stop_service

echo
echo "== summary"
bin/sfload report "${results[@]}" || status=$?
awk -v live="$pruned_live" -v secs="$live_secs" -v rest="$p2" -v p1="$p1" -v t1="$t1" -v t2="$t2" -v n="$history_runs" -v oldest="$oldest" -v failed="${passes_failed:-0}" 'BEGIN {
	rest -= p1
	printf "\nPruning %d expired runs, batch '"$batch"', pause '"$pause"', one worker:\n", n
	printf "  during the live phases: %d runs in %.1f s = %.0f runs/s\n", live, secs, live / secs
	rate = 0; if (t2 - t1 > 0) rate = rest / (t2 - t1)
	printf "  after them, without traffic: %d runs in %.1f s = %.0f runs/s\n", rest, t2 - t1, rate
	printf "  (deleted outside the measured windows: before a service'"'"'s first reading, or as a phase'"'"'s service stopped: %d runs)\n", n - live - rest
	printf "  failed passes (last service): %d; oldest finished run kept at the end: %.0f s old\n", failed, oldest
}'
if awk -v o="$oldest" 'BEGIN { exit !(o >= 30 * 86400) }'; then
	echo "bench-retention: expired runs were left after an hour" >&2
	status=1
fi
loadavg
exit "$status"
