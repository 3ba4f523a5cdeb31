#!/usr/bin/env bash
# Stop the one-node SLURM started by tools/slurm/up.sh: slurmd, slurmctld, slurmdbd, then
# MariaDB and munged, each by the process id in its pid file. Packages, configuration and
# the accounting database stay, so the next tools/slurm/up.sh starts in seconds.
set -uo pipefail

MARKER="# Written by calvingfronts tools/slurm/up.sh"
if [[ ! -f /etc/slurm/slurm.conf ]] || ! head -n 1 /etc/slurm/slurm.conf | grep -qF "$MARKER"; then
    echo "tools/slurm/down.sh: no SLURM of tools/slurm/up.sh here; nothing to stop"
    exit 0
fi

# Send SIGTERM to the process in pid file $1 and wait up to 30 s for it to end.
stop() {
    local pidfile=$1 pid
    [[ -f $pidfile ]] || return 0
    pid=$(cat "$pidfile")
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 150); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "tools/slurm/down.sh: process $pid ($pidfile) did not stop on SIGTERM; killing it" >&2
            kill -KILL "$pid"
        fi
    fi
    rm -f "$pidfile"
}

stop /run/slurm/slurmd.pid
stop /run/slurm/slurmctld.pid
stop /run/slurm/slurmdbd.pid
stop /run/mysqld/mysqld.pid
stop /run/munge/munged.pid
echo "SLURM stopped"
