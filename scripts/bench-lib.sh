# Shared by the benchmark scripts (bench.sh, bench-retention.sh); source it after setting
# `name` (the script's name in messages).

# with_database URL NAME replaces the database of a postgres:// URL.
with_database() {
	local url=$1 name=$2 query=""
	if [[ $url == *\?* ]]; then query="?${url#*\?}"; url=${url%%\?*}; fi
	echo "${url%/*}/${name}${query}"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port prints BENCH_PORT, or the first free port from 3900.
free_port() {
	if [[ -n ${BENCH_PORT:-} ]]; then echo "$BENCH_PORT"; return; fi
	local candidate
	for candidate in $(seq 3900 3999); do
		if port_free "$candidate"; then echo "$candidate"; return; fi
	done
	echo "$name: no free port in 3900-3999 (set BENCH_PORT)" >&2
	return 1
}

loadavg() { [[ -r /proc/loadavg ]] && echo "== load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc 2>/dev/null || echo '?') cores (other work on the machine skews the numbers)"; return 0; }

# build_binaries OUT builds the service and the load generator into bin/ and empties the
# results folder OUT of an earlier run's JSON.
build_binaries() {
	echo "== build"
	mkdir -p bin "$1"
	go build -o bin/sequenceflow ./cmd/sequenceflow
	go build -o bin/sfload ./cmd/sfload
	rm -f "$1"/*.json
}

# first_free_port FROM prints the first free port from FROM up to FROM + 99, skipping those
# named after it (ports already handed out).
first_free_port() {
	local from=$1 candidate taken
	shift
	for candidate in $(seq "$from" $((from + 99))); do
		taken=0
		for p in "$@"; do [[ $p == "$candidate" ]] && taken=1; done
		if ((taken == 0)) && port_free "$candidate"; then echo "$candidate"; return; fi
	done
	echo "$name: no free port in $from-$((from + 99))" >&2
	return 1
}

# with_app_name URL NAME adds application_name=NAME to a postgres:// URL, so that
# pg_stat_activity tells the processes' connections apart.
with_app_name() {
	local url=$1 app=$2
	if [[ $url == *\?* ]]; then echo "${url}&application_name=${app}"; else echo "${url}?application_name=${app}"; fi
}

# rss_kb PID prints the process's resident set (VmRSS, kB), 0 once it has gone.
rss_kb() { awk '/^VmRSS:/ { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# mb KB prints kB as MB with one decimal.
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# sample_rss PID FILE writes the largest VmRSS (kB) of PID seen every 200 ms into FILE until
# it is killed; start it in the background.
sample_rss() {
	local pid=$1 file=$2 peak=0 now
	while kill -0 "$pid" 2>/dev/null; do
		now=$(rss_kb "$pid")
		if ((now > peak)); then peak=$now; echo "$peak" >"$file"; fi
		sleep 0.2
	done
}

# cpu_ticks PID... prints the sum of utime + stime (clock ticks) of the processes.
cpu_ticks() {
	local total=0 pid stat
	for pid in "$@"; do
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		stat=${stat##*) } # after the command name, which may hold spaces
		# shellcheck disable=SC2086
		set -- $stat
		total=$((total + ${12} + ${13})) # fields 14 and 15 of stat: utime, stime
	done
	echo "$total"
}

# pg_backend_pids DB prints the pids of the PostgreSQL backends connected to database DB,
# found by their process title ("postgres: <cluster>: <user> <db> <client> <state>").
pg_backend_pids() {
	local db=$1 pid args
	for pid in $(pgrep -x postgres 2>/dev/null); do
		args=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || continue
		[[ $(awk '{ print $4 }' <<<"$args") == "$db" ]] && echo "$pid"
	done
	return 0
}

# redis_cpu_seconds URL prints used_cpu_sys + used_cpu_user of the Redis server at URL.
redis_cpu_seconds() {
	redis-cli -u "$1" INFO cpu 2>/dev/null | tr -d '\r' |
		awk -F: '$1 == "used_cpu_sys" || $1 == "used_cpu_user" { s += $2 } END { printf "%.3f\n", s }'
}

# wait_http URL PID SECONDS waits until URL answers, failing early when PID has exited.
wait_http() {
	local url=$1 pid=$2 tries=$(($3 * 2))
	for _ in $(seq 1 "$tries"); do
		kill -0 "$pid" 2>/dev/null || return 1
		curl -fsS "$url" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}

# stop_service stops the service a script started in the background as service_pid, if it
# still runs, and forgets it; the scripts make it their EXIT trap.
service_pid=
stop_service() {
	if [[ -n $service_pid ]] && kill -0 "$service_pid" 2>/dev/null; then
		kill "$service_pid" 2>/dev/null || true
		wait "$service_pid" 2>/dev/null || true
	fi
	service_pid=
}
