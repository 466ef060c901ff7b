#!/usr/bin/env bash
# `multus-e2e certify` in CI: Debian's reference plugins (containernetworking-plugins in /usr/lib/cni) and
# the fixture delegates (fixtures/delegates/certify), each judged against what it is known to get: the
# requirement ids it fails (or "certified"). A certificate that differs from that — a new failure, or a
# known one gone — fails this step, so the findings about Debian's plugins stay written down and current.
# Every certification runs at once (each in namespaces of its own); certificates land in
# reports/certify/<label>/.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=/usr/lib/cni
fixtures=fixtures/delegates/certify
cfg=fixtures/certify

declare -a labels=() expected=()
# certify LABEL EXPECTED DELEGATE CONFIG [options]: EXPECTED is "certified" or the failed ids, space-separated, sorted.
certify() {
  local label=$1 want=$2 delegate=$3 config=$4; shift 4
  labels+=("$label"); expected+=("$want")
  if [ ! -x "$delegate" ]; then echo "$label: $delegate is not installed" >"reports/certify/$label.log"; return; fi
  node bin/multus-e2e.mjs certify --delegate "$delegate" --config "$config" --name "ci-cert-$label" \
    --reports-dir "reports/certify/$label" "$@" >"reports/certify/$label.log" 2>&1 &
}

# What the verdicts in the comments mean is in README.md, *Certifying a CNI delegate*.
mkdir -p reports/certify
# Debian's Go plugins answer VERSION with their own newest version (1.0.0), not the one asked (CNI spec §5).
debian_common="version.well-formed"
# macvlan, bridge, ptp: CHECK (0.4.0, 1.0.0) fails on a healthy attachment whose IPAM route has no "gw": ADD
# installs the route via the subnet gateway, CHECK looks for it without one.
# macvlan runs profile full: Part 2 (as a Multus delegate under the bundled plugin, on a one-node local
# cluster, beside Part 1) passes every multus.* requirement, so its expected failures are Part 1's.
certify macvlan "check.healthy $debian_common" $bin/macvlan $cfg/macvlan.json --profile full
certify bridge "check.healthy $debian_common" $bin/bridge $cfg/bridge.json
certify ptp "check.healthy $debian_common" $bin/ptp $cfg/ptp.json
# host-device: a second DEL, a DEL with the netns gone and a DEL after a failed ADD all fail (code 999).
certify host-device "del.after-failed-add del.idempotent del.netns-gone $debian_common" $bin/host-device $cfg/host-device.json
certify host-local "$debian_common" $bin/host-local $cfg/host-local.json --ipam-only
certify static "$debian_common" $bin/static $cfg/static.json --ipam-only
certify fixture certified $fixtures/veth-delegate.mjs $cfg/veth-delegate.json
certify leaky-del del.removes-everything $fixtures/leaky-del $cfg/veth-delegate.json
certify wrong-shape add.result-schema $fixtures/wrong-shape $cfg/veth-delegate.json
certify lying-addresses add.result-true $fixtures/lying-addresses $cfg/veth-delegate.json
certify del-not-idempotent del.idempotent $fixtures/del-not-idempotent $cfg/veth-delegate.json
certify ignores-ifname add.ifname $fixtures/ignores-ifname $cfg/veth-delegate.json
certify bad-error-json error.well-formed $fixtures/bad-error-json $cfg/veth-delegate.json
# ipvlan and vlan need link kinds a host kernel may lack (this CI host's has neither): certify then runs
# them in the vm guest, both in one boot (344 s in `bash scripts/ci-certify.sh`, 2026-12-02 01:38 UTC,
# 2-core machine at load 6-22; the step 392 s; most of it Part 1's process starts under TCG);
# certificates in reports/certify/vm/<plugin>/, output in reports/certify/vm.log. Same findings as macvlan.
labels+=(vm/ipvlan vm/vlan); expected+=("check.healthy $debian_common" "check.healthy $debian_common")
node bin/multus-e2e.mjs certify --delegate $bin/ipvlan --config $cfg/ipvlan.json --delegate $bin/vlan --config $cfg/vlan.json \
  --name ci-cert-vm --reports-dir reports/certify/vm >reports/certify/vm.log 2>&1 &
wait

status=0
printf '\n== certify: %-20s %-18s %s\n' delegate got expected
for i in "${!labels[@]}"; do
  label=${labels[$i]} want=${expected[$i]}
  got=$(node -e '
    const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const unmet = [...new Set(c.requirements.filter((r) => r.verdict === "failed" || r.verdict === "skipped").map((r) => r.id))].sort();
    process.stdout.write(c.verdict === "CERTIFIED" ? "certified" : unmet.join(" "));
  ' "reports/certify/$label/certificate.json" 2>/dev/null || echo "no certificate")
  want_sorted=$(tr ' ' '\n' <<<"$want" | sort | tr '\n' ' ' | sed 's/ $//')
  if [ "$got" = "$want_sorted" ]; then mark=ok; else mark=MISMATCH; status=1; fi
  printf '  %-8s %-20s %s\n' "$mark" "$label" "$got"
  log=reports/certify/$label.log; [ -f "$log" ] || log=reports/certify/${label%%/*}.log
  [ "$mark" = ok ] || { printf '           expected: %s\n' "$want_sorted"; tail -n 20 "$log" | sed 's/^/           | /'; }
done
exit $status
