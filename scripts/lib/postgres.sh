# Shell functions to run a throwaway or embedded-style PostgreSQL cluster, Unix socket only.
# Sourced by scripts/test and scripts/bench; postgres refuses to run as root, so as root the
# server runs as the unprivileged 'postgres' user (created by the Debian package).

pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [[ -z "$dir" ]]; then
        echo "no PostgreSQL server found: run scripts/bootstrap" >&2
        return 1
    fi
    echo "$dir"
}

# as_pg_user CMD... — runs CMD as the cluster owner.
as_pg_user() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# pg_cluster_start DIR [SETTING...] — initdb into DIR/data, start with the socket in DIR and each SETTING (name=value)
# passed as -c, print the URL.
pg_cluster_start() {
    local dir=$1 bin setting options=""
    shift
    for setting in "$@"; do options+=" -c $setting"; done
    bin=$(pg_bindir)
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
    chmod 0700 "$dir"
    as_pg_user "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        return 1
    }
    as_pg_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c max_connections=600 -c shared_buffers=128MB$options" \
        start >/dev/null || {
        cat "$dir/server.log" >&2
        return 1
    }
    echo "postgresql:///postgres?host=$dir&user=postgres"
}

# pg_cluster_stop DIR — fast shutdown; never fails.
pg_cluster_stop() {
    local dir=$1 bin
    bin=$(pg_bindir) || return 0
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        as_pg_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
}
