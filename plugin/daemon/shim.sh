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

out=$(
  {
    printf '%s\0' "CNI_COMMAND=${CNI_COMMAND-}" "CNI_CONTAINERID=${CNI_CONTAINERID-}" "CNI_NETNS=${CNI_NETNS-}" \
      "CNI_IFNAME=${CNI_IFNAME-}" "CNI_ARGS=${CNI_ARGS-}" "CNI_PATH=${CNI_PATH-}" ''
    printf '%s' "$conf"
  } | curl --silent --unix-socket "$sock" --connect-timeout 2 --max-time "$max" --fail-with-body \
    -H 'Content-Type: application/octet-stream' --data-binary @- http://multus-daemon/shim
)
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
