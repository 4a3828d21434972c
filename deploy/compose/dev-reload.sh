#!/bin/sh
# dev-reload ROLE [ARGS...]: build the binary, run `sequenceflow ROLE`, and rebuild and restart it
# whenever a watched file changes -- the hot reload of docker-compose.dev.yml, where the
# repository is bind-mounted on the working directory.
#
# It polls (like the original service's CHOKIDAR_USEPOLLING) because file events do not cross
# bind mounts from macOS and Windows hosts. A failed build keeps the running process and waits
# for the next change; a process that exits is restarted after RELOAD_RESTART_DELAY. SIGTERM
# and SIGINT stop the process gracefully (it gets SIGTERM and is waited for), then the script
# exits.
#
# Environment: RELOAD_PACKAGE (./cmd/sequenceflow), RELOAD_WATCH (go.mod go.sum cmd internal
# migrations), RELOAD_POLL_INTERVAL (1 second), RELOAD_RESTART_DELAY (2 seconds),
# RELOAD_BIN (/tmp/sequenceflow). POSIX sh: runs with busybox (the golang:alpine image) and dash.
set -u

[ $# -ge 1 ] || { echo "usage: dev-reload ROLE [ARGS...]" >&2; exit 2; }
package=${RELOAD_PACKAGE:-./cmd/sequenceflow}
watch=${RELOAD_WATCH:-go.mod go.sum cmd internal migrations}
interval=${RELOAD_POLL_INTERVAL:-1}
restart_delay=${RELOAD_RESTART_DELAY:-2}
bin=${RELOAD_BIN:-/tmp/sequenceflow}
pid=

log() { echo "dev-reload: $*" >&2; }

# fingerprint changes whenever a watched file is added, removed, resized or touched.
fingerprint() {
	# shellcheck disable=SC2086 # $watch is a list of paths
	find $watch -type f 2>/dev/null | sort | xargs stat -c '%n %s %Y' 2>/dev/null | md5sum
}

build() {
	log "building $package"
	if go build -o "$bin.new" "$package"; then
		mv "$bin.new" "$bin"
		return 0
	fi
	log "build failed; keeping the running process, waiting for the next change"
	return 1
}

start() {
	log "starting $bin $*"
	"$bin" "$@" &
	pid=$!
}

# alive reports whether the process runs; a finished child stays a zombie until it is waited
# for, so its state is read from /proc rather than with kill -0.
alive() {
	[ -n "$pid" ] || return 1
	state=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

stop() {
	[ -n "$pid" ] || return 0
	log "stopping process $pid"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	log "process $pid exited with status $?"
	pid=
}

trap 'stop; exit 0' TERM INT

last=
while :; do
	now=$(fingerprint)
	if [ "$now" != "$last" ]; then
		last=$now
		if build; then
			stop
			start "$@"
		fi
	elif [ -n "$pid" ] && ! alive; then
		wait "$pid"
		log "process $pid exited with status $?; restarting in ${restart_delay}s"
		pid=
		sleep "$restart_delay"
		start "$@"
	fi
	sleep "$interval"
done
