// CNI ADD results in every spec version, converted through one internal ("current", 1.x) form.
// 0.1.0/0.2.0 use {ip4, ip6}; 0.3.x/0.4.0 use interfaces/ips with a "version" field; 1.x drops it.
import { CniError, ErrorCode } from './errors.ts';
import { ipFamily } from './ip.ts';
import { compareVersions, usesLegacyResult } from './version.ts';

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}
export interface CniIpConfig {
  address: string;
  gateway?: string;
  interface?: number;
}
export interface CniRoute {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}
export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}
/** The internal result form (1.1.0 shape, without cniVersion). */
export interface CurrentResult {
  interfaces: CniInterface[];
  ips: CniIpConfig[];
  routes: CniRoute[];
  dns: CniDns;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(what: string): never {
  throw new CniError(ErrorCode.DecodeFailure, `invalid CNI result: ${what}`);
}

function str(o: Json, key: string, where: string, required = false): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') {
    if (required) fail(`${where}.${key} is required`);
    return undefined;
  }
  if (typeof v !== 'string') fail(`${where}.${key} must be a string`);
  return v;
}

function num(o: Json, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(`${where}.${key} must be an integer`);
  return v;
}

function strList(v: unknown, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(`${where} must be a list of strings`);
  return v as string[];
}

function cidrAddress(cidr: string, where: string): string {
  const slash = cidr.indexOf('/');
  const ip = slash < 0 ? '' : cidr.slice(0, slash);
  const len = Number(cidr.slice(slash + 1));
  const fam = ipFamily(ip);
  if (!fam || !Number.isInteger(len) || len < 0 || len > (fam === 4 ? 32 : 128)) fail(`${where} "${cidr}" is not an address in CIDR form`);
  return ip;
}

/** IPv4 or IPv6 family of an address in CIDR form. */
export function cidrFamily(cidr: string): 4 | 6 {
  return ipFamily(cidr.split('/')[0] ?? '') === 6 ? 6 : 4;
}

function parseRoute(r: unknown, where: string): CniRoute {
  if (!isObject(r)) fail(`${where} must be an object`);
  const route: CniRoute = { dst: str(r, 'dst', where, true) as string };
  cidrAddress(route.dst, `${where}.dst`);
  const gw = str(r, 'gw', where);
  if (gw !== undefined) {
    if (!ipFamily(gw)) fail(`${where}.gw "${gw}" is not an IP address`);
    route.gw = gw;
  }
  for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) {
    const n = num(r, k, where);
    if (n !== undefined) route[k] = n;
  }
  return route;
}

function parseDns(d: unknown): CniDns {
  if (d === undefined || d === null) return {};
  if (!isObject(d)) fail('dns must be an object');
  const dns: CniDns = {};
  const ns = strList(d['nameservers'], 'dns.nameservers');
  if (ns) dns.nameservers = ns;
  const domain = str(d, 'domain', 'dns');
  if (domain) dns.domain = domain;
  const search = strList(d['search'], 'dns.search');
  if (search) dns.search = search;
  const options = strList(d['options'], 'dns.options');
  if (options) dns.options = options;
  return dns;
}

function parseLegacy(raw: Json): CurrentResult {
  const out: CurrentResult = { interfaces: [], ips: [], routes: [], dns: parseDns(raw['dns']) };
  for (const fam of ['ip4', 'ip6'] as const) {
    const block = raw[fam];
    if (block === undefined || block === null) continue;
    if (!isObject(block)) fail(`${fam} must be an object`);
    const address = str(block, 'ip', fam, true) as string;
    cidrAddress(address, `${fam}.ip`);
    const ip: CniIpConfig = { address };
    const gw = str(block, 'gateway', fam);
    if (gw !== undefined) ip.gateway = gw;
    out.ips.push(ip);
    const routes = block['routes'];
    if (routes !== undefined && routes !== null) {
      if (!Array.isArray(routes)) fail(`${fam}.routes must be a list`);
      routes.forEach((r, i) => out.routes.push(parseRoute(r, `${fam}.routes[${i}]`)));
    }
  }
  return out;
}

function parseModern(raw: Json): CurrentResult {
  const out: CurrentResult = { interfaces: [], ips: [], routes: [], dns: parseDns(raw['dns']) };
  const ifs = raw['interfaces'] ?? [];
  if (!Array.isArray(ifs)) fail('interfaces must be a list');
  ifs.forEach((x, i) => {
    const where = `interfaces[${i}]`;
    if (!isObject(x)) fail(`${where} must be an object`);
    const iface: CniInterface = { name: str(x, 'name', where, true) as string };
    for (const k of ['mac', 'sandbox', 'socketPath', 'pciID'] as const) {
      const v = str(x, k, where);
      if (v !== undefined) iface[k] = v;
    }
    const mtu = num(x, 'mtu', where);
    if (mtu !== undefined) iface.mtu = mtu;
    out.interfaces.push(iface);
  });
  const ips = raw['ips'] ?? [];
  if (!Array.isArray(ips)) fail('ips must be a list');
  ips.forEach((x, i) => {
    const where = `ips[${i}]`;
    if (!isObject(x)) fail(`${where} must be an object`);
    const address = str(x, 'address', where, true) as string;
    cidrAddress(address, `${where}.address`);
    const ip: CniIpConfig = { address };
    const gw = str(x, 'gateway', where);
    if (gw !== undefined) ip.gateway = gw;
    const idx = num(x, 'interface', where);
    if (idx !== undefined) {
      if (idx >= out.interfaces.length) fail(`${where}.interface ${idx} does not index interfaces`);
      ip.interface = idx;
    }
    out.ips.push(ip);
  });
  const routes = raw['routes'] ?? [];
  if (!Array.isArray(routes)) fail('routes must be a list');
  routes.forEach((r, i) => out.routes.push(parseRoute(r, `routes[${i}]`)));
  return out;
}

/** Parse a result of any supported version (its own cniVersion wins over `fallbackVersion`). */
export function toCurrent(raw: unknown, fallbackVersion: string): CurrentResult {
  if (!isObject(raw)) fail('result must be a JSON object');
  const v = typeof raw['cniVersion'] === 'string' && raw['cniVersion'] ? raw['cniVersion'] : fallbackVersion;
  return usesLegacyResult(v) ? parseLegacy(raw) : parseModern(raw);
}

function dnsOrEmpty(dns: CniDns): CniDns {
  return { ...dns };
}

/** Render the internal form as a result of `version` (down- or up-conversion). */
export function fromCurrent(r: CurrentResult, version: string): Json {
  if (usesLegacyResult(version)) {
    const out: Json = { cniVersion: version };
    for (const fam of [4, 6] as const) {
      const ip = r.ips.find((x) => cidrFamily(x.address) === fam);
      if (!ip) continue;
      const routes = r.routes.filter((x) => cidrFamily(x.dst) === fam).map((x) => ({ dst: x.dst, ...(x.gw ? { gw: x.gw } : {}) }));
      out[`ip${fam}`] = { ip: ip.address, ...(ip.gateway ? { gateway: ip.gateway } : {}), ...(routes.length ? { routes } : {}) };
    }
    out['dns'] = dnsOrEmpty(r.dns);
    return out;
  }
  const before11 = compareVersions(version, '1.1.0') < 0;
  const withVersionField = compareVersions(version, '1.0.0') < 0;
  const interfaces = r.interfaces.map((i) => {
    if (!before11) return { ...i };
    const { socketPath: _s, pciID: _p, ...rest } = i;
    return rest;
  });
  const ips = r.ips.map((ip) => ({
    ...(withVersionField ? { version: cidrFamily(ip.address) === 6 ? '6' : '4' } : {}),
    ...ip,
  }));
  const routes = r.routes.map((x) => (before11 ? { dst: x.dst, ...(x.gw ? { gw: x.gw } : {}) } : { ...x }));
  const out: Json = { cniVersion: version };
  if (interfaces.length) out['interfaces'] = interfaces;
  if (ips.length) out['ips'] = ips;
  if (routes.length) out['routes'] = routes;
  out['dns'] = dnsOrEmpty(r.dns);
  return out;
}

/** Convert a raw result produced at `fromVersion` into `toVersion`. */
export function convertResult(raw: unknown, fromVersion: string, toVersion: string): Json {
  return fromCurrent(toCurrent(raw, fromVersion), toVersion);
}

/** An empty result of `version`: what an ADD without any attachment result still returns. */
export function emptyResult(version: string): Json {
  return fromCurrent({ interfaces: [], ips: [], routes: [], dns: {} }, version);
}
