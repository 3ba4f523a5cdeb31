#!/usr/bin/env bash
# A one-node SLURM on this machine, with accounting (slurmdbd on MariaDB), for the tests of
# profiles/slurm: partitions `cpu` and `gpu` on the one node. Needs root and apt-get; no
# systemd: every daemon is started here by hand and stopped by tools/slurm/down.sh.
#   tools/slurm/up.sh     install the packages if needed, start munged, mariadbd, slurmdbd,
#                         slurmctld and slurmd, and wait until the node is idle
# The node has no GPU: it declares one as a generic resource (gres.conf, File=/dev/null) so
# that SLURM accepts `--gpus=1`/`--gres=gpu:1` and schedules such jobs as a GPU cluster would.
set -euo pipefail

CLUSTER=calvingfronts-ci
CONF_DIR=/etc/slurm
# The first line of each file this script writes; a slurm.conf without it is not ours and
# is never overwritten.
MARKER="# Written by calvingfronts tools/slurm/up.sh"
DB_PASSWORD=calvingfronts-ci
LOG_DIR=/var/log/slurm

fail() {
    echo "tools/slurm/up.sh: $*" >&2
    exit 1
}

# Wait up to $1 seconds for the command that follows to succeed; the log named in $2 is
# shown when it does not.
wait_for() {
    local seconds=$1 log=$2
    shift 2
    for _ in $(seq "$((seconds * 5))"); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    [[ -f "$log" ]] && tail -n 20 "$log" >&2
    fail "no answer within ${seconds} s from: $* (log: $log)"
}

[[ $(id -u) -eq 0 ]] || fail "must run as root (it installs packages and starts daemons)"
command -v apt-get >/dev/null || fail "needs apt-get (Debian or Ubuntu)"

if [[ -f $CONF_DIR/slurm.conf ]] && ! head -n 1 "$CONF_DIR/slurm.conf" | grep -qF "$MARKER"; then
    fail "$CONF_DIR/slurm.conf exists and was not written by this script: not touching it"
fi

packages=(slurm-wlm slurmdbd munge mariadb-server)
installed=$(dpkg-query -W -f='${db:Status-Status}\n' "${packages[@]}" 2>/dev/null | grep -cx installed || true)
if [[ $installed -ne ${#packages[@]} ]]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q || fail "apt-get update failed"
    apt-get install -y -q "${packages[@]}" || fail "apt-get install ${packages[*]} failed"
fi

# Run directories: /run is empty after a boot, and no init system creates them here.
install -d -o munge -g munge -m 0755 /run/munge
install -d -o mysql -g mysql -m 0755 /run/mysqld
install -d -o slurm -g slurm -m 0755 /run/slurm "$LOG_DIR" /var/lib/slurm/slurmctld
install -d -o root -g root -m 0755 /var/lib/slurm/slurmd

# munge: the key is made by the package; made here if it is missing.
if [[ ! -s /etc/munge/munge.key ]]; then
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
fi
if ! munge -n </dev/null >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
fi
wait_for 10 /var/log/munge/munged.log sh -c "munge -n | unmunge"

# MariaDB for slurmdbd. Native AIO off: MariaDB then starts under kernels without io_setup
# too (some sandboxes), and the accounting of a test cluster needs no speed.
if ! mariadb-admin ping >/dev/null 2>&1; then
    nohup /usr/sbin/mariadbd --user=mysql --pid-file=/run/mysqld/mysqld.pid \
        --innodb-use-native-aio=0 >/var/log/mysql-calvingfronts-ci.log 2>&1 &
fi
wait_for 60 /var/log/mysql-calvingfronts-ci.log mariadb-admin ping
mariadb <<SQL
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
SQL

host=$(hostname -s)
# The node as slurmd finds it: its real CPUs and memory (one line, "NodeName=... CPUs=...").
node=$(slurmd -C | head -n 1)
[[ $node == NodeName=* ]] || fail "slurmd -C did not describe this node: $node"

cat >"$CONF_DIR/slurmdbd.conf" <<CONF
$MARKER
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
PidFile=/run/slurm/slurmdbd.pid
LogFile=$LOG_DIR/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASSWORD
StorageLoc=slurm_acct_db
CONF
chown slurm:slurm "$CONF_DIR/slurmdbd.conf"
chmod 0600 "$CONF_DIR/slurmdbd.conf"

cat >"$CONF_DIR/slurm.conf" <<CONF
$MARKER
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageTRES=gres/gpu
# The executor plugin's comment names each job's rule (rule_NAME_wildcards_...); the tests
# read it back with sacct.
AccountingStoreFlags=job_comment
# Finished jobs stay visible to squeue this long; profiles/slurm asks squeue for the state
# of its jobs (README "On a SLURM cluster"), which needs more than the 180 s the executor
# plugin may wait between two checks.
MinJobAge=300
GresTypes=gpu
$node Gres=gpu:1 NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host MaxTime=INFINITE State=UP
CONF

cat >"$CONF_DIR/gres.conf" <<CONF
$MARKER
# The node has no GPU. SLURM's gpu plugin counts a GPU only with a device file, so the
# one GPU is /dev/null: with task/none nothing restricts access to it.
NodeName=$host Name=gpu Count=1 File=/dev/null
CONF

if ! sacctmgr -n list cluster >/dev/null 2>&1; then
    slurmdbd
fi
wait_for 30 "$LOG_DIR/slurmdbd.log" sacctmgr -n list cluster
if ! sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER"; then
    sacctmgr -i add cluster "$CLUSTER"
fi

if ! scontrol ping >/dev/null 2>&1; then
    slurmctld
fi
wait_for 30 "$LOG_DIR/slurmctld.log" scontrol ping
if [[ ! -f /run/slurm/slurmd.pid ]] || ! kill -0 "$(cat /run/slurm/slurmd.pid)" 2>/dev/null; then
    slurmd
fi
node_state() {
    sinfo -h -N -n "$host" -o %t | sort -u
}
node_registered() {
    [[ $(node_state) != unk* && $(node_state) != down* ]]
}
wait_for 60 "$LOG_DIR/slurmd.log" node_registered
# A drain is kept in the controller's saved state across restarts (e.g. from a run with
# another configuration); this node's configuration is the one just written.
if [[ $(node_state) == drain* ]]; then
    scontrol update nodename="$host" state=resume
fi
node_idle() {
    [[ $(node_state) == idle ]]
}
wait_for 60 "$LOG_DIR/slurmctld.log" node_idle
sinfo
