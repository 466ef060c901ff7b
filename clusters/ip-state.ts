// Reading kernel network state as `ip -j` prints it, and the small IPv4 arithmetic the assertions need.

export interface IpAddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  scope?: string;
}

export interface IpLink {
  ifname: string;
  address?: string;
  mtu?: number;
  operstate?: string;
  addr_info?: IpAddrInfo[];
  linkinfo?: { info_kind?: string };
}

export interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  prefsrc?: string;
}

/**
 * The array `ip -j` prints. iproute2 prints `[]` when there is nothing to list, so empty output or anything
 * but an array means the listing was not read (a failed exec, the wrong tool), never "nothing there".
 */
export function parseIpJson<T>(stdout: string, what: string): T[] {
  const text = stdout.trim();
  if (text === '') throw new Error(`could not read ${what}: the command printed nothing, not a JSON array`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`could not read ${what}: its output is not JSON: ${text.slice(0, 200)}`);
  }
  if (!Array.isArray(parsed)) throw new Error(`could not read ${what}: its output is JSON but not an array: ${text.slice(0, 200)}`);
  return parsed as T[];
}

function ipv4ToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`"${ip}" is not an IPv4 address`);
  }
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

/** True when ip (IPv4, optionally with /len) lies inside cidr. */
export function ipv4InCidr(ip: string, cidr: string): boolean {
  const [net = '', lenText = '32'] = cidr.split('/');
  const len = Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > 32) throw new Error(`"${cidr}" is not an IPv4 CIDR`);
  const size = 2 ** (32 - len);
  const start = Math.floor(ipv4ToNumber(net) / size) * size;
  const value = ipv4ToNumber(ip.split('/')[0] ?? '');
  return value >= start && value < start + size;
}

export const ipv4Addresses = (link: IpLink | undefined): IpAddrInfo[] =>
  (link?.addr_info ?? []).filter((a) => a.family === 'inet');

/** The network address of a CIDR in canonical form, as `ip route` prints a subnet route ("198.18.10.0/24"). */
export function networkOf(cidr: string): string {
  const [net = '', lenText = '32'] = cidr.split('/');
  const len = Number(lenText);
  const size = 2 ** (32 - len);
  const start = Math.floor(ipv4ToNumber(net) / size) * size;
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256);
  return `${octets.join('.')}/${len}`;
}
