#!/usr/bin/env bash
# Start a local PostgreSQL server for the store tests and print its URL on stdout.
# Installs Debian's package when it is missing (CI runs as root on a fresh machine).
#
# Only the final URL goes to stdout. Everything else runs with stdout sent to stderr and the
# saved stdout (fd 3) closed: a server daemon that inherited the pipe would keep it open, and
# `$(bash scripts/postgres.sh)` in `make test` would then wait forever for end of file.
set -euo pipefail
exec 3>&1 1>&2

ROLE=lastmile
PASSWORD=lastmile
DB=lastmile_test

ready() { su postgres -c "psql -p $PORT -tAc 'select 1'" >/dev/null 2>&1; }

start_server() {
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      echo "postgres.sh: PostgreSQL is not installed and this is not root; install Debian's postgresql"
      exit 1
    fi
    apt-get update -qq
    apt-get install -y -qq postgresql </dev/null >/dev/null
  fi

  VERSION=$(ls /usr/lib/postgresql | sort -n | tail -1)
  if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -q "^$VERSION main$"; then
    pg_createcluster "$VERSION" main </dev/null >/dev/null
  fi
  PORT=$(pg_lsclusters -h | awk -v v="$VERSION" '$1==v && $2=="main" {print $3}')

  # Start (again) until it answers: a machine image may hold a stale pid file, or a server that
  # is still shutting down.
  for _ in $(seq 1 30); do
    ready && break
    pg_ctlcluster "$VERSION" main start </dev/null >/dev/null 2>&1 || true
    sleep 1
  done
  if ! ready; then
    echo "postgres.sh: PostgreSQL $VERSION did not start; its log ends with:"
    tail -n 20 "/var/log/postgresql/postgresql-$VERSION-main.log" || true
    exit 1
  fi

  su postgres -c "psql -p $PORT -v ON_ERROR_STOP=1 -q" <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD' CREATEDB;
  END IF;
END \$\$;
SQL
  if ! su postgres -c "psql -p $PORT -tAc \"select 1 from pg_database where datname='$DB'\"" | grep -q 1; then
    su postgres -c "createdb -p $PORT -O $ROLE $DB"
  fi
}

start_server 3>&-
echo "postgresql://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB" >&3
