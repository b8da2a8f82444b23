#!/usr/bin/env bash
# Start the machine's PostgreSQL (127.0.0.1:5432) and NATS JetStream (127.0.0.1:4222) when down.
# Tests that kill a server start their own private instance; these two are the shared ones.
set -euo pipefail
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_up() { for _ in $(seq 1 50); do up "$1" && return 0; sleep 0.2; done; echo "$2 did not start on :$1" >&2; return 1; }

if ! up 5432; then
  echo "starting PostgreSQL"
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  wait_up 5432 PostgreSQL
fi
if ! up 4222; then
  echo "starting nats-server (JetStream)"
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_up 4222 nats-server
fi
