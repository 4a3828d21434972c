#!/usr/bin/env bash
# Makes sure the PostgreSQL and Redis the tests use are reachable. When they are not and a
# Docker engine is available, it starts the postgres and redis services of
# docker-compose.dev.yml and waits for them.
set -euo pipefail

pg_url=${TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable}
redis_url=${TEST_REDIS_URL:-redis://127.0.0.1:6379/9}

hostport() { # prints "host port" of a URL, with a default port
	local rest=${1#*://}
	rest=${rest#*@}
	rest=${rest%%/*}
	rest=${rest%%\?*}
	local host=${rest%:*} port=${rest##*:}
	[ "$host" = "$rest" ] && port=$2
	echo "$host $port"
}

reachable() { # host port
	timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

read -r pg_host pg_port < <(hostport "$pg_url" 5432)
read -r redis_host redis_port < <(hostport "$redis_url" 6379)

missing=()
reachable "$pg_host" "$pg_port" || missing+=(postgres)
reachable "$redis_host" "$redis_port" || missing+=(redis)
[ ${#missing[@]} -eq 0 ] && exit 0

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 && [ -f docker-compose.dev.yml ]; then
	echo "starting ${missing[*]} with docker compose (host ports $pg_port and $redis_port)" >&2
	POSTGRES_HOST_PORT=$pg_port REDIS_HOST_PORT=$redis_port \
		docker compose -f docker-compose.dev.yml up -d --wait "${missing[@]}"
	exit 0
fi
echo "PostgreSQL ($pg_host:$pg_port) or Redis ($redis_host:$redis_port) is not reachable: ${missing[*]} down." >&2
echo "Start them (or run with Docker available), or point TEST_DATABASE_URL / TEST_REDIS_URL at running ones." >&2
exit 1
