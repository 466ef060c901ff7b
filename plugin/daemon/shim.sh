#!/bin/sh
# multus-shim (bundled plugin, thick mode): the CNI binary the runtime executes. It hands the call —
# the CNI_* variables and the config on stdin — to multus-daemon over its unix socket and prints the
# daemon's answer. A shell script plus curl (on every kind node, and in Debian's curl package) starts
# in a few milliseconds, where a Node.js program would pay Node's start-up on every call.
# Failures are CNI error objects on stdout with exit status 1: daemon unreachable, restarted mid-call
# or too slow → code 11 (try again later); nothing here waits unbounded.

conf=$(cat) || conf=

# value_of KEY: $value = the first "KEY": "string" of the config, without a JSON parser (and without
# a subshell: every fork counts at this size).
value_of() {
  value=
  case $conf in
  *"\"$1\""*)
    value=${conf#*\"$1\"}
    value=${value#*\"}
    value=${value%%\"*}
    ;;
  esac
}

value_of cniVersion
version=${value:-1.1.0}

fail() {
  printf '{"cniVersion":"%s","code":%s,"msg":"%s"}\n' "$version" "$1" "$2"
  exit 1
}

if [ "${CNI_COMMAND-}" = VERSION ]; then
  printf '{"cniVersion":"%s","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n' "$version"
  exit 0
fi

value_of daemonSocketDir
dir=${value:-/run/multus}
sock=${dir%/}/multus.sock
[ -S "$sock" ] || fail 11 "multus daemon is not running: no socket $sock"

# Bounded: a call the daemon cannot finish in time fails and the runtime retries (or DELs).
case ${CNI_COMMAND-} in
STATUS | VERSION) max=${MULTUS_SHIM_STATUS_TIMEOUT:-15} ;;
*) max=${MULTUS_SHIM_TIMEOUT:-110} ;;
esac

# The CNI variables go as request headers, the config as the body: no pipeline, so the only processes
# are cat and curl. A leading space keeps curl from reading a config that starts with "@" as a file
# name (JSON allows it); a config beyond what one argument may hold goes through a pipe instead.
case $conf in @*) conf=" $conf" ;; esac
set -- --silent --unix-socket "$sock" --connect-timeout 2 --max-time "$max" --fail-with-body \
  -H 'Expect:' -H 'Content-Type: application/json' \
  -H "CNI-Command: ${CNI_COMMAND-}" -H "CNI-ContainerID: ${CNI_CONTAINERID-}" -H "CNI-Netns: ${CNI_NETNS-}" \
  -H "CNI-Ifname: ${CNI_IFNAME-}" -H "CNI-Args: ${CNI_ARGS-}" -H "CNI-Path: ${CNI_PATH-}" http://multus-daemon/shim
if [ ${#conf} -lt 100000 ]; then
  out=$(curl "$@" --data-binary "$conf")
else
  out=$(printf '%s' "$conf" | curl "$@" --data-binary @-)
fi
rc=$?
case $rc in
0)
  [ -n "$out" ] && printf '%s\n' "$out"
  exit 0
  ;;
22)
  # The daemon answered with a CNI error object.
  printf '%s\n' "$out"
  exit 1
  ;;
7) fail 11 "multus daemon is not accepting connections on $sock" ;;
28) fail 11 "multus daemon did not answer within $max s ($sock)" ;;
52 | 55 | 56) fail 11 "multus daemon closed the connection before answering (restarted?) ($sock)" ;;
127) fail 999 "multus-shim needs curl (Debian package curl)" ;;
*) fail 999 "multus-shim: curl failed with exit status $rc talking to $sock" ;;
esac
