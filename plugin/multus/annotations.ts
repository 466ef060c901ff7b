// Network selection annotations (multi-net spec §4): comma form and JSON form, validated with errors
// that name the annotation, the element and the field.
import { CniError, ErrorCode } from '../cni/errors.ts';
import { ipFamily } from '../cni/ip.ts';
import { isJsonObject, type JsonObject } from '../cni/netconf.ts';

export const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';
export const DEFAULT_NETWORK_ANNOTATION = 'v1.multus-cni.io/default-network';
export const NETWORK_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/network-status';
export const RESOURCE_NAME_ANNOTATION = 'k8s.v1.cni.cncf.io/resourceName';

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol?: string;
  hostIP?: string;
}
export interface Bandwidth {
  ingressRate?: number;
  ingressBurst?: number;
  egressRate?: number;
  egressBurst?: number;
}

export interface NetworkSelection {
  name: string;
  namespace: string;
  interface?: string;
  ips?: string[];
  mac?: string;
  defaultRoute?: string[];
  portMappings?: PortMapping[];
  bandwidth?: Bandwidth;
  cniArgs?: JsonObject;
  infinibandGuid?: string;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAC = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;
const IB_GUID = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){7}$/;

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}
export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}
/** Linux interface names: 1-15 bytes, no "/", ":" or whitespace, not "." or "..". */
export function interfaceNameProblem(s: string): string | undefined {
  if (s.length < 1 || Buffer.byteLength(s) > 15) return 'must be 1 to 15 characters long';
  if (/[/:\s]/.test(s)) return 'must not contain "/", ":" or whitespace';
  if (s === '.' || s === '..') return 'must not be "." or ".."';
  return undefined;
}
export function isIpOrCidr(s: string): boolean {
  const [ip, len, extra] = s.split('/');
  const fam = ipFamily(ip ?? '');
  if (!fam || extra !== undefined) return false;
  if (len === undefined) return true;
  if (!/^\d{1,3}$/.test(len)) return false;
  return Number(len) <= (fam === 4 ? 32 : 128);
}
export function isMac(s: string): boolean {
  return MAC.test(s);
}

class SelectionErrors {
  constructor(
    private readonly annotation: string,
    private readonly index: number,
    private readonly label: string,
  ) {}
  fail(problem: string): never {
    throw new CniError(
      ErrorCode.InvalidConfig,
      `invalid annotation "${this.annotation}": element ${this.index + 1}${this.label ? ` ("${this.label}")` : ''}: ${problem}`,
    );
  }
}

function validateNames(sel: NetworkSelection, err: SelectionErrors): void {
  if (!isDns1123Subdomain(sel.name)) err.fail(`network name "${sel.name}" is not a valid DNS-1123 subdomain`);
  if (!isDns1123Label(sel.namespace)) err.fail(`namespace "${sel.namespace}" is not a valid DNS-1123 label`);
  if (sel.interface !== undefined) {
    const p = interfaceNameProblem(sel.interface);
    if (p) err.fail(`interface "${sel.interface}" ${p}`);
  }
}

function positiveInt(v: unknown, max = Number.MAX_SAFE_INTEGER): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= max;
}

function parsePortMappings(v: unknown, err: SelectionErrors): PortMapping[] {
  if (!Array.isArray(v) || v.length === 0) err.fail('"portMappings" must be a non-empty list');
  return v.map((pm, i) => {
    if (!isJsonObject(pm)) err.fail(`"portMappings"[${i}] must be an object`);
    const { hostPort, containerPort, protocol, hostIP } = pm;
    if (!positiveInt(hostPort, 65535)) err.fail(`"portMappings"[${i}].hostPort must be an integer 1-65535`);
    if (!positiveInt(containerPort, 65535)) err.fail(`"portMappings"[${i}].containerPort must be an integer 1-65535`);
    const out: PortMapping = { hostPort, containerPort };
    if (protocol !== undefined) {
      if (typeof protocol !== 'string' || !['tcp', 'udp', 'sctp'].includes(protocol.toLowerCase())) err.fail(`"portMappings"[${i}].protocol must be TCP, UDP or SCTP`);
      out.protocol = protocol.toLowerCase();
    }
    if (hostIP !== undefined) {
      if (typeof hostIP !== 'string' || !ipFamily(hostIP)) err.fail(`"portMappings"[${i}].hostIP must be an IP address`);
      out.hostIP = hostIP;
    }
    return out;
  });
}

function parseBandwidth(v: unknown, err: SelectionErrors): Bandwidth {
  if (!isJsonObject(v)) err.fail('"bandwidth" must be an object');
  const keys = ['ingressRate', 'ingressBurst', 'egressRate', 'egressBurst'] as const;
  const out: Bandwidth = {};
  for (const k of Object.keys(v)) if (!(keys as readonly string[]).includes(k)) err.fail(`"bandwidth" has unknown key "${k}"`);
  for (const k of keys) {
    if (v[k] === undefined) continue;
    if (!positiveInt(v[k])) err.fail(`"bandwidth".${k} must be a positive integer`);
    out[k] = v[k];
  }
  if (Object.keys(out).length === 0) err.fail('"bandwidth" must set at least one of ingressRate, ingressBurst, egressRate, egressBurst');
  if (out.ingressBurst !== undefined && out.ingressRate === undefined) err.fail('"bandwidth".ingressBurst needs ingressRate');
  if (out.egressBurst !== undefined && out.egressRate === undefined) err.fail('"bandwidth".egressBurst needs egressRate');
  return out;
}

function optString(o: JsonObject, key: string, err: SelectionErrors): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') err.fail(`"${key}" must be a string`);
  return v;
}

function parseJsonElement(el: unknown, index: number, annotation: string, defaultNamespace: string): NetworkSelection {
  const label = isJsonObject(el) && typeof el['name'] === 'string' ? el['name'] : '';
  const err: SelectionErrors = new SelectionErrors(annotation, index, label);
  if (!isJsonObject(el)) err.fail('must be a JSON object');
  const name = optString(el, 'name', err);
  if (!name) err.fail('"name" is required');
  const sel: NetworkSelection = { name, namespace: optString(el, 'namespace', err) || defaultNamespace };
  const iface = optString(el, 'interface', err);
  if (iface !== undefined) sel.interface = iface;
  if (el['ips'] !== undefined) {
    const ips = el['ips'];
    if (!Array.isArray(ips) || ips.length === 0) err.fail('"ips" must be a non-empty list');
    ips.forEach((ip, i) => {
      if (typeof ip !== 'string' || !isIpOrCidr(ip)) err.fail(`"ips"[${i}] ${JSON.stringify(ip)} is not a valid IP address or CIDR`);
    });
    sel.ips = ips as string[];
  }
  const mac = optString(el, 'mac', err);
  if (mac !== undefined) {
    if (!isMac(mac)) err.fail(`"mac" "${mac}" is not a valid 6-byte MAC address`);
    sel.mac = mac;
  }
  if (el['default-route'] !== undefined) {
    const gws = el['default-route'];
    if (!Array.isArray(gws)) err.fail('"default-route" must be a list of gateway IP addresses');
    gws.forEach((gw, i) => {
      if (typeof gw !== 'string' || !ipFamily(gw)) err.fail(`"default-route"[${i}] ${JSON.stringify(gw)} is not a valid IP address`);
    });
    sel.defaultRoute = gws as string[];
  }
  if (el['portMappings'] !== undefined) sel.portMappings = parsePortMappings(el['portMappings'], err);
  if (el['bandwidth'] !== undefined) sel.bandwidth = parseBandwidth(el['bandwidth'], err);
  if (el['cni-args'] !== undefined) {
    if (!isJsonObject(el['cni-args'])) err.fail('"cni-args" must be an object');
    sel.cniArgs = el['cni-args'];
  }
  const guid = optString(el, 'infiniband-guid', err);
  if (guid !== undefined) {
    if (!IB_GUID.test(guid)) err.fail(`"infiniband-guid" "${guid}" is not a valid 8-byte GUID`);
    sel.infinibandGuid = guid;
  }
  validateNames(sel, err);
  return sel;
}

function parseCommaElement(item: string, index: number, annotation: string, defaultNamespace: string): NetworkSelection {
  const err: SelectionErrors = new SelectionErrors(annotation, index, item);
  if (!item) err.fail('empty network reference');
  let rest = item;
  let iface: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    iface = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const parts = rest.split('/');
  if (parts.length > 2) err.fail('expected [namespace/]name[@interface]');
  const sel: NetworkSelection =
    parts.length === 2 ? { namespace: parts[0] ?? '', name: parts[1] ?? '' } : { namespace: defaultNamespace, name: parts[0] ?? '' };
  if (iface !== undefined) sel.interface = iface;
  validateNames(sel, err);
  return sel;
}

/** Parse a selection annotation value; `defaultNamespace` applies to references without a namespace. */
export function parseNetworkSelections(value: string, defaultNamespace: string, annotation = NETWORKS_ANNOTATION): NetworkSelection[] {
  const text = value.trim();
  if (!text) return [];
  let selections: NetworkSelection[];
  if (text.startsWith('[') || text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new CniError(ErrorCode.InvalidConfig, `invalid annotation "${annotation}": not valid JSON: ${(e as Error).message}`);
    }
    // A single object is accepted too (upstream does for the default-network annotation).
    const list = Array.isArray(parsed) ? parsed : [parsed];
    selections = list.map((el, i) => parseJsonElement(el, i, annotation, defaultNamespace));
  } else {
    selections = text.split(',').map((s, i) => parseCommaElement(s.trim(), i, annotation, defaultNamespace));
  }
  const withRoute = selections.filter((s) => s.defaultRoute !== undefined);
  if (withRoute.length > 1) {
    throw new CniError(
      ErrorCode.InvalidConfig,
      `invalid annotation "${annotation}": "default-route" is set on ${withRoute.length} elements (${withRoute.map((s) => s.name).join(', ')}); at most one may set it`,
    );
  }
  return selections;
}
