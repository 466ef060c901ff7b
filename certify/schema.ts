// The shapes of what a delegate prints, per CNI version: ADD results (0.1.0/0.2.0 "ip4/ip6"; 0.3.x/0.4.0
// "interfaces/ips" with an IP version field; 1.0.0+ without it, 1.1.0 adding MTU and route attributes),
// VERSION results and error objects (CNI spec §5). Unknown keys are allowed, as the spec's own libraries
// allow them; known keys must have their type. parseAddResult also maps every shape onto one Normalized
// form for the kernel comparison.
import { isIP } from 'node:net';
import { z } from 'zod';

export const KNOWN_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

const cidr = z.string().refine((s) => {
  const [ip = '', len, ...rest] = s.split('/');
  const family = isIP(ip);
  const n = Number(len);
  return rest.length === 0 && family !== 0 && len !== undefined && Number.isInteger(n) && n >= 0 && n <= (family === 4 ? 32 : 128);
}, 'an IP address in CIDR notation');
const ip = z.string().refine((s) => isIP(s) !== 0, 'an IP address');
const uint = z.number().int().nonnegative();
const dns = z.looseObject({
  nameservers: z.array(ip).optional(), domain: z.string().optional(),
  search: z.array(z.string()).optional(), options: z.array(z.string()).optional(),
});
const route = z.looseObject({ dst: cidr, gw: ip.optional() });
const route11 = route.extend({ mtu: uint.optional(), advmss: uint.optional(), priority: uint.optional(), table: uint.optional(), scope: uint.optional() });
const mac = z.string().regex(/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$|^([0-9a-fA-F]{2}:){19}[0-9a-fA-F]{2}$/, 'a hardware address');
const iface = z.looseObject({ name: z.string().min(1), mac: mac.optional(), sandbox: z.string().optional() });
const iface11 = iface.extend({ mtu: uint.optional(), socketPath: z.string().optional(), pciID: z.string().optional() });
const ipConfig = z.looseObject({ address: cidr, gateway: ip.optional(), interface: uint.optional() });

function schemaFor(version: string, ipamOnly: boolean): z.ZodType {
  const cniVersion = z.literal(version, { error: `"cniVersion" must be the version requested, "${version}"` });
  if (version === '0.1.0' || version === '0.2.0') {
    const ipn = z.looseObject({ ip: cidr, gateway: ip.optional(), routes: z.array(route).optional() });
    return z.looseObject({ cniVersion, ip4: ipn.optional(), ip6: ipn.optional(), dns: dns.optional() });
  }
  const legacy = version.startsWith('0.');
  const ipEntry = legacy ? ipConfig.extend({ version: z.enum(['4', '6']) }) : ipConfig;
  const v11 = version === '1.1.0';
  const ips = ipamOnly
    ? z.array(ipEntry.extend({ interface: z.undefined({ error: 'an IPAM result has no "interface" in ips (CNI spec §5, delegated plugins)' }).optional() })).min(1)
    : z.array(ipEntry).optional();
  return z.looseObject({
    cniVersion,
    interfaces: ipamOnly
      ? z.undefined({ error: 'an IPAM result has no "interfaces" (CNI spec §5, delegated plugins)' }).optional()
      : z.array(v11 ? iface11 : iface).optional(),
    ips,
    routes: z.array(v11 ? route11 : route).optional(),
    dns: dns.optional(),
  });
}

/** Problems of an ADD result for `version`, each naming the field (empty when valid). */
export function addResultProblems(result: unknown, version: string, ipamOnly: boolean): string[] {
  const parsed = schemaFor(version, ipamOnly).safeParse(result);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(result)'}: ${i.message}`);
}

export interface NormalizedResult {
  interfaces: { name: string; mac?: string; mtu?: number; sandbox?: string }[];
  ips: { address: string; gateway?: string; interface?: number }[];
  routes: { dst: string; gw?: string }[];
}

type Loose = Record<string, unknown>;
const asArray = (v: unknown): Loose[] => (Array.isArray(v) ? v.filter((x): x is Loose => typeof x === 'object' && x !== null) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** Any version's ADD result as interfaces/ips/routes, reading only what is there (the schema judges shape). */
export function normalizeResult(result: unknown): NormalizedResult {
  const r = (typeof result === 'object' && result !== null ? result : {}) as Loose;
  const legacy = [r.ip4, r.ip6].filter((x): x is Loose => typeof x === 'object' && x !== null);
  if (legacy.length > 0) {
    return {
      interfaces: [],
      ips: legacy.flatMap((x) => (str(x.ip) ? [{ address: str(x.ip)!, ...(str(x.gateway) ? { gateway: str(x.gateway)! } : {}) }] : [])),
      routes: legacy.flatMap((x) => asArray(x.routes)).flatMap((rt) => (str(rt.dst) ? [{ dst: str(rt.dst)!, ...(str(rt.gw) ? { gw: str(rt.gw)! } : {}) }] : [])),
    };
  }
  return {
    interfaces: asArray(r.interfaces).flatMap((i) => (str(i.name) ? [{
      name: str(i.name)!, ...(str(i.mac) ? { mac: str(i.mac)! } : {}), ...(num(i.mtu) !== undefined ? { mtu: num(i.mtu)! } : {}),
      ...(str(i.sandbox) !== undefined ? { sandbox: str(i.sandbox)! } : {}),
    }] : [])),
    ips: asArray(r.ips).flatMap((x) => (str(x.address) ? [{
      address: str(x.address)!, ...(str(x.gateway) ? { gateway: str(x.gateway)! } : {}), ...(num(x.interface) !== undefined ? { interface: num(x.interface)! } : {}),
    }] : [])),
    routes: asArray(r.routes).flatMap((rt) => (str(rt.dst) ? [{ dst: str(rt.dst)!, ...(str(rt.gw) ? { gw: str(rt.gw)! } : {}) }] : [])),
  };
}

const versionResult = z.looseObject({
  cniVersion: z.string(),
  supportedVersions: z.array(z.string().regex(/^\d+\.\d+\.\d+$/, 'a version like 1.0.0')).min(1),
});

/** Problems of a VERSION result for a request with `asked` (empty when valid). */
export function versionResultProblems(result: unknown, asked: string): string[] {
  const parsed = versionResult.safeParse(result);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.') || '(result)'}: ${i.message}`);
  const cniVersion = (result as { cniVersion: string }).cniVersion;
  return cniVersion === asked ? [] : [`cniVersion: "${cniVersion}", not the version asked, "${asked}"`];
}

const errorObject = z.looseObject({
  code: z.number().int().positive(),
  msg: z.string().min(1),
  details: z.string().optional(),
  cniVersion: z.string().optional(),
});

/** Problems of an error printed on stdout (empty when it is a well-formed CNI error object). */
export function errorObjectProblems(stdout: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return [stdout.trim() === '' ? 'nothing on stdout' : `stdout is not JSON: ${stdout.trim().slice(0, 120)}`];
  }
  const r = errorObject.safeParse(parsed);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.') || '(error)'}: ${i.message}`);
}
