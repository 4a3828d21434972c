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
