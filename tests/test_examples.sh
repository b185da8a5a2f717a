#!/bin/sh
# The C examples of the echo roles: a server and two clients, real processes, each check
# of the protocol (bytes both ways, a catalogue walked and rebuilt, nothing leaked).
set -u
b=${SHMIPC_BUILDDIR:?}/examples/c
dir=$(mktemp -d /tmp/shmipc-examples-XXXXXX)
export SHMIPC_SOCKET_DIR="$dir"
n=0
fails=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }

out=$(mktemp)
"$b/echo_server" -n ex -c 2 -s 1,4096,1048576 -r 50 >"$out" 2>&1 &
srv=$!
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.05; done
"$b/echo_client" -n ex -a first; c1=$?
"$b/echo_client" -n ex -a second; c2=$?
wait $srv; s=$?
sed 's/^/# /' "$out"
t $c1 "the first client checked every object and answered"
t $c2 "the second client too"
t $s "the server checked every answer, and its arenas are back to baseline"
test "$(grep -c ': ok$' "$out")" = 2; t $? "two clients served"
"$b/echo_client" -n nobody 2>/dev/null; t $(( $? == 3 ? 0 : 1 )) "a client with no server exits 3"
test -z "$(ls -A "$dir")"; t $? "nothing left in the socket directory"
rm -rf "$dir" "$out"
echo "1..$n"
test $fails -eq 0
