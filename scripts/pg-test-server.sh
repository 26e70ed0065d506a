# Sourced by scripts/test.sh (and usable by hand: `source scripts/pg-test-server.sh;
# pg_test_server_start`): a throwaway PostgreSQL server in a temporary directory, listening on
# a free port on 127.0.0.1 only, trusting local connections. Exports LEDGERLINK_TEST_PG_URL.
#
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (or
# `nobody` when there is none); any other user runs it as itself.

# Where initdb and pg_ctl are: on PATH, else Debian's versioned directory (newest first).
pg_test_bindir() {
    local d
    for d in "$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")" \
        /usr/local/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

pg_test_server_start() {
    local bindir
    if ! bindir="$(pg_test_bindir)"; then
        # A fresh machine: install the server the way the README promises, by itself.
        if command -v apt-get >/dev/null 2>&1; then
            local sudo=()
            [[ "$(id -u)" == 0 ]] || sudo=(sudo)
            echo "pg-test-server: installing PostgreSQL (apt-get install postgresql)" >&2
            DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q postgresql >&2 ||
                { "${sudo[@]}" apt-get update -q >&2 &&
                    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q postgresql >&2; }
        fi
        bindir="$(pg_test_bindir)" || {
            echo "pg-test-server: initdb/pg_ctl not found (install PostgreSQL 15+)" >&2
            return 1
        }
    fi
    local started=$SECONDS
    PG_TEST_DIR="$(mktemp -d -t ledgerlink-pg.XXXXXX)"
    PG_TEST_AS=()
    if [[ "$(id -u)" == 0 ]]; then
        local user=postgres
        id -u "$user" >/dev/null 2>&1 || user=nobody
        chown "$user" "$PG_TEST_DIR"
        PG_TEST_AS=(runuser -u "$user" --)
    fi
    PG_TEST_PORT="$(pg_test_free_port)"
    "${PG_TEST_AS[@]}" "$bindir/initdb" -D "$PG_TEST_DIR/data" -U ledgerlink --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$PG_TEST_DIR/initdb.log" 2>&1 || {
        cat "$PG_TEST_DIR/initdb.log" >&2
        return 1
    }
    # Test settings: durability off (a throwaway server), enough connections for parallel
    # test binaries, the socket in our directory rather than /var/run/postgresql.
    "${PG_TEST_AS[@]}" "$bindir/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_TEST_PORT -k $PG_TEST_DIR -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        start >/dev/null || {
        cat "$PG_TEST_DIR/server.log" >&2
        return 1
    }
    export LEDGERLINK_TEST_PG_URL="postgres://ledgerlink@127.0.0.1:$PG_TEST_PORT/postgres"
    echo "pg-test-server: PostgreSQL on 127.0.0.1:$PG_TEST_PORT ready in $((SECONDS - started)) s ($PG_TEST_DIR)"
}

# A port nothing listens on: the kernel's pick when python3 is there, else a random one that
# refuses a connection.
pg_test_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local port
    while true; do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

pg_test_server_stop() {
    if [[ -n "${PG_TEST_DIR:-}" && -d "$PG_TEST_DIR/data" ]]; then
        "${PG_TEST_AS[@]}" "$(pg_test_bindir)/pg_ctl" \
            -D "$PG_TEST_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [[ -n "${PG_TEST_DIR:-}" ]]; then
        rm -rf "$PG_TEST_DIR"
    fi
}
