// Which delegates a pod gets, in which order, under which interface names and with which per-pod
// parameters: cluster network first (CNI_IFNAME), then defaultNetworks, then the pod's selections.
import { CniError, ErrorCode } from '../cni/errors.ts';
import { formatCniArgs, parseCniArgs } from '../cni/env.ts';
import { declaredCapabilities, isJsonObject, parseNetworkConfig, serializeNetworkConfig, type JsonObject, type NetworkConfig } from '../cni/netconf.ts';
import type { ApiCaller } from '../k8s/client.ts';
import { DEFAULT_NETWORK_ANNOTATION, NETWORKS_ANNOTATION, parseNetworkSelections, type NetworkSelection } from './annotations.ts';
import type { CachedAttachment } from './cache.ts';
import { DeviceAllocator } from './checkpoint.ts';
import type { MultusConfig } from './config.ts';
import type { PodObject } from './kube.ts';
import { resolveNad, resolveNetworkRef, type ResolvedNetwork } from './networks.ts';

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface PlanInput {
  conf: MultusConfig;
  client: ApiCaller | undefined;
  /** The pod object when the API was reachable and CNI_ARGS named a pod. */
  pod: PodObject | undefined;
  podRef: PodRef | undefined;
  ifname: string;
  cniArgs: string;
  /** DEL re-derivation must not fail on device lookups; ADD must. */
  strictDevices: boolean;
}

/** selection field → runtimeConfig capability name (CNI CONVENTIONS.md). */
const CAPABILITY_OF = {
  ips: 'ips',
  mac: 'mac',
  portMappings: 'portMappings',
  bandwidth: 'bandwidth',
  infinibandGuid: 'infinibandGUID',
} as const;

interface Planned {
  res: ResolvedNetwork;
  sel?: NetworkSelection;
  isDefault: boolean;
}

async function clusterNetwork(input: PlanInput): Promise<Planned> {
  const { conf, client, pod } = input;
  const override = pod?.metadata.annotations?.[DEFAULT_NETWORK_ANNOTATION];
  if (override?.trim()) {
    const sels = parseNetworkSelections(override, conf.multusNamespace, DEFAULT_NETWORK_ANNOTATION);
    const sel = sels[0];
    if (sels.length !== 1 || !sel) {
      throw new CniError(ErrorCode.InvalidConfig, `invalid annotation "${DEFAULT_NETWORK_ANNOTATION}": must name exactly one network, got ${sels.length}`);
    }
    return { res: await resolveNad(client, conf.confDir, sel.namespace, sel.name), sel, isDefault: true };
  }
  if (conf.clusterNetwork) {
    // The configured cluster network goes by its network name even when it is kept in a NAD; a
    // default network the pod chose by annotation keeps its "namespace/name".
    const res = await resolveNetworkRef(conf.clusterNetwork, client, conf.multusNamespace, conf.confDir);
    return { res: { ...res, id: res.net.name }, isDefault: true };
  }
  const first = conf.delegates?.[0];
  const net = parseNetworkConfig(first, 'multus config delegates[0]');
  return { res: { id: net.name, net }, isDefault: true };
}

/** Under namespaceIsolation, as upstream: the pod's namespace, "default" (always), and globalNamespaces. */
function checkIsolation(conf: MultusConfig, podNs: string, sel: NetworkSelection): void {
  const global = ['default', ...conf.globalNamespaces.filter((n) => n !== 'default')];
  if (!conf.namespaceIsolation || sel.namespace === podNs || global.includes(sel.namespace)) return;
  throw new CniError(
    ErrorCode.InvalidConfig,
    `namespace isolation: pod in namespace "${podNs}" may not use network ${sel.namespace}/${sel.name} (allowed: its own namespace and ${global.join(', ')})`,
  );
}

async function planNetworks(input: PlanInput): Promise<Planned[]> {
  const { conf, client, pod, podRef } = input;
  const out: Planned[] = [await clusterNetwork(input)];
  for (const [i, d] of (conf.delegates ?? []).slice(1).entries()) {
    const net = parseNetworkConfig(d, `multus config delegates[${i + 1}]`);
    out.push({ res: { id: net.name, net }, isDefault: false });
  }
  if (!podRef || !conf.systemNamespaces.includes(podRef.namespace)) {
    for (const ref of conf.defaultNetworks) out.push({ res: await resolveNetworkRef(ref, client, conf.multusNamespace, conf.confDir), isDefault: false });
  }
  const annotation = pod?.metadata.annotations?.[NETWORKS_ANNOTATION];
  if (annotation && podRef) {
    const sels = parseNetworkSelections(annotation, podRef.namespace);
    for (const sel of sels) checkIsolation(conf, podRef.namespace, sel);
    const resolved = await Promise.all(sels.map((sel) => resolveNad(client, conf.confDir, sel.namespace, sel.name)));
    sels.forEach((sel, i) => out.push({ res: resolved[i] as ResolvedNetwork, sel, isDefault: false }));
  }
  return out;
}

function capabilityArgs(p: Planned, conf: MultusConfig): JsonObject {
  // Runtime-provided runtimeConfig applies to the cluster network only (multi-net spec §7.5).
  const args: JsonObject = p.isDefault ? { ...conf.runtimeConfig } : {};
  const sel = p.sel;
  if (!sel) return args;
  const declared = declaredCapabilities(p.res.net);
  for (const [field, cap] of Object.entries(CAPABILITY_OF) as [keyof typeof CAPABILITY_OF, string][]) {
    const value = sel[field];
    if (value === undefined) continue;
    if (!declared.has(cap)) {
      throw new CniError(
        ErrorCode.InvalidConfig,
        `network ${p.res.id}: the pod requests "${cap}" but no plugin of the network declares the "${cap}" capability`,
        'multi-network spec §4.1.2: the attachment must fail when no plugin supports a requested capability',
      );
    }
    args[cap] = value;
  }
  return args;
}

function delegateArgs(base: string, sel: NetworkSelection | undefined): string {
  if (!sel?.ips && !sel?.mac) return base;
  const args = parseCniArgs(base);
  args.set('IgnoreUnknown', 'true');
  if (sel.ips) args.set('IP', sel.ips.join(','));
  if (sel.mac) args.set('MAC', sel.mac);
  return formatCniArgs(args);
}

function withPluginFields(net: NetworkConfig, sel: NetworkSelection | undefined, deviceId: string | undefined): NetworkConfig {
  if (!sel?.cniArgs && !deviceId) return net;
  const plugins = net.plugins.map((p) => {
    const q: JsonObject = { ...p };
    if (sel?.cniArgs) {
      // Annotation cni-args win over the config's own args.cni (multi-net spec §4.1.2.1.6.2).
      const args = isJsonObject(q['args']) ? { ...q['args'] } : {};
      const cni = isJsonObject(args['cni']) ? args['cni'] : {};
      args['cni'] = { ...cni, ...sel.cniArgs };
      q['args'] = args;
    }
    if (deviceId) q['deviceID'] = deviceId;
    return q;
  });
  return { ...net, plugins };
}

/** The full, validated plan; throws before anything is attached when any part is invalid. */
export async function planAttachments(input: PlanInput): Promise<CachedAttachment[]> {
  const planned = await planNetworks(input);
  const devices = input.podRef ? new DeviceAllocator(input.conf.kubeletCheckpointFile, input.podRef.uid) : undefined;
  const owners = new Map<string, string>();
  return planned.map((p, idx) => {
    const ifname = idx === 0 ? input.ifname : (p.sel?.interface ?? `net${idx}`);
    const previous = owners.get(ifname);
    if (previous !== undefined) {
      throw new CniError(ErrorCode.InvalidConfig, `interface name "${ifname}" is requested by both network ${previous} and network ${p.res.id}`);
    }
    owners.set(ifname, p.res.id);
    let deviceId: string | undefined;
    if (p.res.resourceName && devices) {
      try {
        deviceId = devices.next(p.res.resourceName, p.res.id);
      } catch (e) {
        if (input.strictDevices) throw e;
      }
    }
    const net = withPluginFields(p.res.net, p.sel, deviceId);
    const att: CachedAttachment = {
      network: p.res.id,
      isDefault: p.isDefault,
      ifname,
      netConf: serializeNetworkConfig(net),
      cniArgs: delegateArgs(input.cniArgs, p.sel),
      capabilityArgs: capabilityArgs(p, input.conf),
    };
    if (p.sel?.defaultRoute) att.defaultRoute = p.sel.defaultRoute;
    if (p.res.resourceName) att.resourceName = p.res.resourceName;
    if (deviceId) att.deviceId = deviceId;
    return att;
  });
}
