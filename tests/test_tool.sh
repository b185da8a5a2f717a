#!/bin/sh
# The `shmipc` tool against real processes: what they make it lists and details (ls, stat,
# --json checked by a JSON parser), and what they leave when killed with SIGKILL `gc`
# removes — never what a live process still uses. Runs in a private shm directory and a
# private socket directory, so that gc sees nothing of other tests running meanwhile.
set -u
command -v python3 >/dev/null || { echo "Bail out! python3 is needed to check the JSON"; exit 1; }
b=${SHMIPC_BUILDDIR:?}
tool=$b/tools/shmipc
helper=$b/tests/helper_tool
tmp=$(mktemp -d /tmp/shmipc-tool-XXXXXX)
SHMIPC_SHM_DIR=$(mktemp -d /dev/shm/tool-test.XXXXXX)
SHMIPC_SOCKET_DIR=$tmp/sockets
mkdir -m 700 "$SHMIPC_SOCKET_DIR"
export SHMIPC_SHM_DIR SHMIPC_SOCKET_DIR
shm=$SHMIPC_SHM_DIR
uid=$(id -u)
p=t$$ # names of this test process
pids=""
n=0
fails=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
cleanup() {
    for pid in $pids; do kill -9 "$pid" 2>/dev/null; done
    rm -rf "$tmp" "$shm"
}
trap cleanup EXIT
trap "exit 1" INT TERM HUP

# Wait (up to 30 s) until file $1 has a line $2, or process $3 (if given) has exited.
wait_line() {
    for _ in $(seq 600); do
        grep -qx "$2" "$1" 2>/dev/null && return 0
        if [ $# -gt 2 ] && ! kill -0 "$3" 2>/dev/null; then grep -qx "$2" "$1"; return; fi
        sleep 0.05
    done
    return 1
}
# Start a helper in the background ($1: a label, the rest: its arguments); its pid in
# $started, its output in $tmp/<label>.out. Fails if it does not say "ready".
start() {
    label=$1
    shift
    "$@" >"$tmp/$label.out" 2>&1 &
    started=$!
    pids="$pids $started"
    wait_line "$tmp/$label.out" ready "$started"
}
# Reap helper $1, and forget it (its pid may be reused: never kill it again).
reap() {
    wait "$1"
    status=$?
    pids=$(for pid in $pids; do [ "$pid" = "$1" ] || echo "$pid"; done)
    return $status
}
# Kill a helper and reap it.
kill9() { kill -9 "$1" 2>/dev/null; reap "$1" 2>/dev/null; }
# Does stdin (JSON) satisfy the Python expression $1 about d?
json_ok() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
valid_json() { python3 -m json.tool >/dev/null; }
exists() { test -e "$shm/shmipc.$uid.$1"; }
# The ls row of name $1: "KIND NAME PID STATE ...".
ls_row() { "$tool" ls | awk -v name="$1" '$2 == name'; }

# ---- usage ------------------------------------------------------------------------------
"$tool" --help >"$tmp/help" 2>&1; rc=$?
t $(( rc == 0 ? 0 : 1 )) "--help exits 0"
grep -q '^Usage: shmipc COMMAND' "$tmp/help" && grep -q 'gc \[--dry-run\]' "$tmp/help"
t $? "--help shows the usage and every command"
version=$(sh "${SHMIPC_SRCDIR:?}/build-aux/version.sh")
test "$("$tool" --version)" = "shmipc $version"; t $? "--version says the library's version ($version)"
for args in "" "frob" "ls --bogus" "ls extra" "stat" "stat a b" "gc --json" "ls --dry-run"; do
    # shellcheck disable=SC2086
    "$tool" $args >"$tmp/out" 2>"$tmp/err"; rc=$?
    test $rc = 2 && test ! -s "$tmp/out" && grep -q '^shmipc: ' "$tmp/err"
    t $? "bad usage 'shmipc $args': exit 2, a 'shmipc: ' message on stderr (got $rc)"
done
"$tool" stat "$p-nothing" >"$tmp/out" 2>"$tmp/err"; rc=$?
test $rc = 1 && grep -q "^shmipc: no arena, pool or server named '$p-nothing'" "$tmp/err"
t $? "stat of a name that does not exist: exit 1 and says so"

# ---- nothing there ------------------------------------------------------------------------
"$tool" ls >"$tmp/out"; rc=$?
test $rc = 0 && test "$(wc -l <"$tmp/out")" = 1; t $? "ls with nothing: exit 0, the header only"
"$tool" ls --json | json_ok 'd["pools"] == [] and d["servers"] == [] and d["shm_dir"] == "'"$shm"'"'
t $? "ls --json with nothing: empty lists, the shm directory in use"
"$tool" gc; t $? "gc with nothing to do exits 0"

# ---- a live named arena: ls and stat -------------------------------------------------------
start live "$helper" arena "$p-live" node; t $? "a process made the arena $p-live"
live=$started
set -- $(ls_row "$p-live")
test "${1:-} ${3:-} ${4:-}" = "arena $live alive"; t $? "ls: arena $p-live, pid $live, alive"
"$tool" ls --json >"$tmp/ls.json"; valid_json <"$tmp/ls.json"; t $? "ls --json is valid JSON"
json_ok "[(x['kind'], x['owner_pid'], x['owner_alive'], x['state'], x['scope'], x['mode'],
          [u['pid'] for u in x['mapped_by']], x['size'], x['used'] > 0, x['free'] > 0)
         for x in d['pools']] == [('arena', $live, True, 'alive', 'node', '0600', [$live],
                                   4 << 20, True, True)]" <"$tmp/ls.json"
t $? "ls --json: kind, owner, state, scope, mode, who maps it, size, used and free"
"$tool" stat "$p-live" --json >"$tmp/stat.json"; rc=$?
test $rc = 0 && valid_json <"$tmp/stat.json"; t $? "stat --json: exit 0, valid JSON"
json_ok "[(a['provider'], a['allocations'], a['named'], a['lock_recoveries'], a['bad_frees'],
          a['largest_free'] > 0, a['capacity'] == a['used'] + a['free'],
          [(e['endpoint'], e['held'], e['held_bytes']) for e in a['endpoints']])
         for a in [d['pools'][0]['arena']]] == [('shared', 7, 2, 0, 0, True, True,
                                                 [(0, 2, 1000)])]" <"$tmp/stat.json"
t $? "stat --json: 7 allocations (2 named), 2 objects of 500 bytes held outside sessions"
json_ok "[(x['name'], x['size'], x['refs']) for x in d['pools'][0]['arena']['names']] ==
         [('config', 100, 1), ('table', 4096, 2)]" <"$tmp/stat.json"
t $? "stat --json: the named allocations by name, with their sizes and reference counts"
"$tool" stat "$p-live" >"$tmp/stat.txt"
grep -q "^arena '$p-live' (node scope)" "$tmp/stat.txt" &&
    grep -q "^  mapped by        $live (helper_tool)" "$tmp/stat.txt" &&
    grep -q '^  allocations      7 (2 named)' "$tmp/stat.txt" &&
    grep -q '^  largest free     ' "$tmp/stat.txt"
t $? "stat: the arena, who maps it, its allocations and largest free block"
grep -q '^  named allocations:$' "$tmp/stat.txt" &&
    grep -Eq '^    config +100 +1$' "$tmp/stat.txt" &&
    grep -Eq '^    table +4.0K +2$' "$tmp/stat.txt"
t $? "stat: a table of the named allocations, their sizes and reference counts"

# ---- an empty arena: (none) for its empty tables -----------------------------------------------
start empty "$helper" map "$p-empty"; t $? "a process made the empty arena $p-empty"
"$tool" stat "$p-empty" >"$tmp/empty.txt" &&
    grep -Eq '^  named +\(none\)$' "$tmp/empty.txt" &&
    grep -Eq '^  endpoints +\(none\)$' "$tmp/empty.txt"
t $? "stat of an empty arena: (none) for its named allocations and endpoints"
"$tool" stat "$p-empty" --json |
    json_ok "[(a['named'], a['names'], a['endpoints']) for a in [d['pools'][0]['arena']]] == [(0, [], [])]"
t $? "stat --json of an empty arena: no names, no endpoints"
kill9 "$started"
"$tool" gc >/dev/null; ! exists "$p-empty"; t $? "gc removes the empty arena"

# ---- its creator killed: gc --dry-run, then gc ----------------------------------------------
kill9 "$live"
set -- $(ls_row "$p-live")
test "${4:-}" = stale; t $? "creator killed: ls says stale"
"$tool" gc --dry-run >"$tmp/out"; rc=$?
test $rc = 0 && grep -q "^would remove $shm/shmipc.$uid.$p-live " "$tmp/out"
t $? "gc --dry-run: exit 0, would remove the arena"
exists "$p-live"; t $? "gc --dry-run removed nothing"
"$tool" gc >"$tmp/out"; rc=$?
test $rc = 0 && grep -q "^removed $shm/shmipc.$uid.$p-live " "$tmp/out"; t $? "gc: exit 0, says it removed the arena"
! exists "$p-live"; t $? "the arena of the killed process is gone"

# ---- an arena its creator left but another live process maps: kept -----------------------
start made "$helper" arena "$p-kept" node; made=$started
start mapper "$helper" map "$p-kept"; t $? "a second process maps $p-kept"
mapper=$started
kill9 "$made"
set -- $(ls_row "$p-kept")
test "${4:-} ${9:-}" = "orphaned 1"; t $? "creator killed, still mapped: ls says orphaned, 1 user"
"$tool" gc >"$tmp/out"; rc=$?
test $rc = 0 && exists "$p-kept"; t $? "gc keeps an arena a live process maps, though its creator died"
"$tool" stat "$p-kept" --json | json_ok "[u['pid'] for u in d['pools'][0]['mapped_by']] == [$mapper] and not d['pools'][0]['owner_alive']"
t $? "stat --json: mapped by the survivor, owner dead"
kill9 "$mapper"
"$tool" gc >/dev/null && ! exists "$p-kept"; t $? "once its last user is killed too, gc removes it"

# ---- a socket-scope arena ----------------------------------------------------------------------
if start sock "$helper" arena "$p-sock" socket; then
    sock=$started
    file=$(cd "$shm" && ls | grep "^shmipc\.$uid\.$p-sock@s[0-9]*$")
    t $? "a socket-scope arena is the pool $file"
    "$tool" stat "$p-sock" --json | json_ok "[(x['name'], x['scope'], x['package'] >= 0, x['state'])
        for x in d['pools']] == [('${file#shmipc.$uid.}', 'socket', True, 'alive')]"
    t $? "stat NAME finds it in its scope: name, scope, package"
    kill9 "$sock"
    "$tool" gc >/dev/null && test ! -e "$shm/$file"; t $? "gc removes it once its creator is killed"
else
    kill9 "$started"
    if grep -q "spans packages" "$tmp/sock.out"; then
        skip "socket scope: this process may run on several CPU packages"
    else
        t 1 "a socket-scope arena: $(cat "$tmp/sock.out")"
    fi
fi

# ---- a plain named pool ------------------------------------------------------------------------
start pool "$helper" pool "$p-pool"; pool=$started
set -- $(ls_row "$p-pool")
test "${1:-} ${4:-} ${6:-} ${7:-}" = "pool alive - -"; t $? "ls: a plain pool, alive, no used/free"
"$tool" stat "$p-pool" --json | json_ok "d['pools'][0]['kind'] == 'pool' and d['pools'][0]['arena'] is None"
t $? "stat --json: a pool without an arena"
"$tool" gc >/dev/null && exists "$p-pool"; t $? "gc keeps the pool of a live process"
kill9 "$pool"
"$tool" gc >/dev/null && ! exists "$p-pool"; t $? "gc removes it once its creator is killed"

# ---- a pool being created when its creator was killed -------------------------------------------
start creating "$helper" creating "$p-tmp"; creating=$started
temp=$(cd "$shm" && ls -A | grep "^\.shmipc\.$uid\.tmp\.$creating\.")
t $? "a pool being created is a temporary file ($temp)"
"$tool" gc >/dev/null && test -e "$shm/$temp"; t $? "gc keeps the temporary file of a live creator"
kill9 "$creating"
"$tool" gc --dry-run >"$tmp/out" && grep -q "^would remove $shm/$temp " "$tmp/out" &&
    test -e "$shm/$temp"
t $? "gc --dry-run lists the dead creator's temporary file, and keeps it"
"$tool" gc >/dev/null && test ! -e "$shm/$temp"; t $? "gc removes it"

# ---- a file that is no pool of ours: never touched ------------------------------------------------
head -c 65536 /dev/urandom >"$shm/shmipc.$uid.$p-junk"
set -- $(ls_row "$p-junk")
test "${1:-} ${4:-}" = "unreadable unknown"; t $? "ls: a file that is not a shmipc pool is unreadable, state unknown"
"$tool" gc >/dev/null && exists "$p-junk"; t $? "gc leaves what it cannot read alone"
rm -f "$shm/shmipc.$uid.$p-junk"

# ---- servers, both providers -------------------------------------------------------------------
for provider in shared lend; do
    srvname=$p-$provider
    "$helper" serve "$srvname" $provider 5 1000 >"$tmp/srv.out" 2>&1 &
    srv=$!
    pids="$pids $srv"
    if ! wait_line "$tmp/srv.out" ready "$srv"; then
        kill -9 "$srv" 2>/dev/null # still running, but not listening
        reap "$srv"
        if [ $? = 4 ]; then
            skip "$provider provider: the server reports SHMIPC_ENOTSUP ($(cat "$tmp/srv.out"))"
            continue
        fi
        t 1 "$provider: the server starts"; cat "$tmp/srv.out"
        continue
    fi
    "$tool" stat "$srvname" >"$tmp/srv.txt" && grep -Eq '^  peers +\(none\)$' "$tmp/srv.txt"
    t $? "$provider: stat of a server without clients: peers (none)"
    "$helper" hold "$srvname" 5 >"$tmp/client.out" 2>&1 &
    client=$!
    pids="$pids $client"
    wait_line "$tmp/srv.out" lent && wait_line "$tmp/client.out" "held 5"
    t $? "$provider: a client borrowed 5 objects of 1000 bytes and holds them"
    set -- $(ls_row "$srvname")
    test "${1:-} ${3:-} ${4:-} ${9:-}" = "server $srv alive 1"; t $? "$provider: ls shows the server, its pid, alive, 1 peer"
    "$tool" ls --json | json_ok "[(s['name'], s['pid'], s['alive'], s['peer_count'], s['size'] > 0)
        for s in d['servers']] == [('$srvname', $srv, True, 1, True)]"
    t $? "$provider: ls --json: the server, its pid, alive, 1 peer, the bytes of its pools"
    "$tool" stat "$srvname" --json >"$tmp/srv.json"; rc=$?
    test $rc = 0 && valid_json <"$tmp/srv.json"; t $? "$provider: stat --json is valid JSON"
    if [ $provider = shared ]; then want="(5, 5000, 0, 0)"; else want="(0, 0, 5, 5000)"; fi
    json_ok "[(p['pid'], p['comm'], p['app'], p['alive'], p['session_open'],
               (p['held'], p['held_bytes'], p['lent'], p['lent_bytes'])) for p in d['servers'][0]['peers']]
             == [($client, 'helper_tool', 'holder', True, True, $want)]" <"$tmp/srv.json"
    t $? "$provider: stat shows the peer, its name, its app, and the objects and bytes it holds $want"
    json_ok "sorted(str(x['app']) for x in d['servers'][0]['pools'] if x['kind'] == 'arena' and
                    x['owner_pid'] == $srv) ==
             ['None', 'holder'] and [e['app'] for x in d['servers'][0]['pools'] if x['app']
                                     for e in x['arena']['endpoints'] if e['pid'] == $client] == ['holder']" <"$tmp/srv.json"
    t $? "$provider: stat --json names the app arena's app, and the app of its endpoints"
    json_ok "d['servers'][0]['pid'] == $srv and d['servers'][0]['alive'] and
             len([x for x in d['servers'][0]['pools'] if x['kind'] == 'arena' and
                  x['owner_pid'] == $srv and x['arena']['provider'] == '$provider']) == 2 and
             any(x['kind'] == 'control' for x in d['servers'][0]['pools'])" <"$tmp/srv.json"
    t $? "$provider: stat shows the server's session and app arenas and its control segment"
    "$tool" stat "$srvname" >"$tmp/srv.txt"
    grep -q "^ *$client helper_tool *holder *open " "$tmp/srv.txt"; t $? "$provider: stat's peers table has the client and its app"
    grep -Eq "^    [0-9a-f]{16} +$srv $provider +holder " "$tmp/srv.txt"; t $? "$provider: stat's arenas table names the app arena's app"
    "$tool" gc >/dev/null && test -S "$SHMIPC_SOCKET_DIR/$srvname.sock" &&
        test -f "$SHMIPC_SOCKET_DIR/$srvname.lock"
    t $? "$provider: gc keeps a live server's socket and lock"
    kill9 "$srv"
    set -- $(ls_row "$srvname")
    test "${1:-} ${4:-}" = "server stale"; t $? "$provider: server killed: ls says stale"
    "$tool" ls --json | json_ok "[(s['alive'], s['state'], s['size'], s['peer_count'])
        for s in d['servers']] == [(False, 'stale', None, None)]"
    t $? "$provider: ls --json: not alive, stale, nothing known of its pools"
    "$tool" gc >"$tmp/out" && grep -q "^removed $SHMIPC_SOCKET_DIR/$srvname.sock " "$tmp/out" &&
        test ! -e "$SHMIPC_SOCKET_DIR/$srvname.sock" && test ! -e "$SHMIPC_SOCKET_DIR/$srvname.lock"
    t $? "$provider: gc removes the killed server's socket and lock"
    reap "$client"; t $? "$provider: the client noticed and exited cleanly"
done

# ---- a lend server whose refcount table grew past its first pool --------------------------------
# (first pools of 1 MiB: 20000 loans, two records each, spread over 2 or 3 table pools)
srvname=$p-grown
if ! start grown "$helper" serve "$srvname" lend-grown 20000 64; then
    kill -9 "$started" 2>/dev/null
    reap "$started"
    if [ $? = 4 ]; then skip "grown table: the lend provider is not built"
    else t 1 "grown table: the server starts"; cat "$tmp/grown.out"; fi
else
    srv=$started
    "$helper" hold "$srvname" 20000 >"$tmp/client.out" 2>&1 &
    client=$!
    pids="$pids $client"
    wait_line "$tmp/grown.out" lent "$srv" && wait_line "$tmp/client.out" "held 20000" "$client"
    t $? "grown table: a client borrowed 20000 objects and holds them"
    "$tool" stat "$srvname" --json | json_ok "[(p['pid'], p['lent'], p['lent_bytes'])
        for p in d['servers'][0]['peers']] == [($client, 20000, 20000 * 64)]"
    t $? "grown table: stat counts every loan of the peer, in every pool of the table"
    kill9 "$srv"
    reap "$client"; t $? "grown table: the client noticed and exited cleanly"
    "$tool" gc >/dev/null
fi

# ---- nothing left --------------------------------------------------------------------------------
test -z "$(ls -A "$shm")"; t $? "nothing left in the shm directory"
test -z "$(ls -A "$SHMIPC_SOCKET_DIR")"; t $? "nothing left in the socket directory"
echo "1..$n"
test $fails -eq 0
