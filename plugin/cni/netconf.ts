// Network configurations (single plugin or conflist) and running them the way libcni does:
// ADD in order with prevResult chaining, DEL in reverse, CHECK with the cached result, GC and STATUS.
import { CniError, ErrorCode } from './errors.ts';
import { execPlugin, findPlugin, type DelegateEnv } from './exec.ts';
import { IMPLICIT_VERSION, assertSupported, versionAtLeast } from './version.ts';

export type JsonObject = Record<string, unknown>;

export interface NetworkConfig {
  name: string;
  cniVersion: string;
  /** One element for a single-plugin config. */
  plugins: JsonObject[];
  disableCheck: boolean;
  isList: boolean;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validate a conf or conflist; `fallbackName` is injected when "name" is missing (multi-net spec §3.4.2). */
export function parseNetworkConfig(raw: unknown, where: string, fallbackName?: string): NetworkConfig {
  if (!isJsonObject(raw)) throw new CniError(ErrorCode.InvalidConfig, `${where}: CNI config must be a JSON object`);
  const name = typeof raw['name'] === 'string' && raw['name'] ? raw['name'] : fallbackName;
  if (!name) throw new CniError(ErrorCode.InvalidConfig, `${where}: CNI config has no "name"`);
  const cniVersion = typeof raw['cniVersion'] === 'string' && raw['cniVersion'] ? raw['cniVersion'] : IMPLICIT_VERSION;
  assertSupported(cniVersion, where);
  const list = raw['plugins'];
  if (list !== undefined) {
    if (!Array.isArray(list) || list.length === 0) throw new CniError(ErrorCode.InvalidConfig, `${where}: "plugins" must be a non-empty list`);
    const plugins = list.map((p, i) => {
      if (!isJsonObject(p) || typeof p['type'] !== 'string' || !p['type']) {
        throw new CniError(ErrorCode.InvalidConfig, `${where}: plugins[${i}] needs a string "type"`);
      }
      return p;
    });
    return { name, cniVersion, plugins, disableCheck: raw['disableCheck'] === true, isList: true };
  }
  if (typeof raw['type'] !== 'string' || !raw['type']) throw new CniError(ErrorCode.InvalidConfig, `${where}: CNI config needs a string "type" or a "plugins" list`);
  return { name, cniVersion, plugins: [{ ...raw, name, cniVersion }], disableCheck: false, isList: false };
}

/** The config as it would be written to a file again (used for caching). */
export function serializeNetworkConfig(net: NetworkConfig): JsonObject {
  if (!net.isList) return { ...net.plugins[0] };
  return { cniVersion: net.cniVersion, name: net.name, ...(net.disableCheck ? { disableCheck: true } : {}), plugins: net.plugins };
}

/** Capability names declared true by any plugin of the network. */
export function declaredCapabilities(net: NetworkConfig): Set<string> {
  const out = new Set<string>();
  for (const p of net.plugins) {
    const caps = p['capabilities'];
    if (!isJsonObject(caps)) continue;
    for (const [k, v] of Object.entries(caps)) if (v === true) out.add(k);
  }
  return out;
}

export interface CallParams {
  containerId: string;
  netns: string;
  ifname: string;
  args: string;
  path: string[];
  /** Capability arguments; each plugin receives those it declares. */
  capabilityArgs: JsonObject;
}

function pluginRequest(net: NetworkConfig, plugin: JsonObject, params: CallParams, prevResult: unknown): JsonObject {
  const { capabilities, ...conf } = plugin;
  conf['cniVersion'] = net.cniVersion;
  conf['name'] = net.name;
  if (isJsonObject(capabilities)) {
    const rc: JsonObject = isJsonObject(conf['runtimeConfig']) ? { ...conf['runtimeConfig'] } : {};
    let any = false;
    for (const [k, v] of Object.entries(params.capabilityArgs)) {
      if (capabilities[k] === true) {
        rc[k] = v;
        any = true;
      }
    }
    if (any) conf['runtimeConfig'] = rc;
  }
  if (prevResult !== undefined) conf['prevResult'] = prevResult;
  return conf;
}

function delegateEnv(command: DelegateEnv['command'], params: CallParams): DelegateEnv {
  return { command, containerId: params.containerId, netns: params.netns, ifname: params.ifname, args: params.args, path: params.path };
}

/** An error from one plugin of a network, naming both. */
export class NetworkPluginError extends CniError {
  readonly pluginType: string;
  constructor(cause: CniError, network: string, pluginType: string, verb: string) {
    super(cause.code, `${verb} of network "${network}" failed in delegate "${pluginType}": ${cause.message}`, cause.details);
    this.pluginType = pluginType;
  }
}

async function runPlugin(net: NetworkConfig, plugin: JsonObject, env: DelegateEnv, params: CallParams, prev: unknown): Promise<unknown> {
  const type = String(plugin['type']);
  try {
    return await execPlugin(findPlugin(type, params.path), env, pluginRequest(net, plugin, params, prev));
  } catch (e) {
    if (e instanceof CniError) throw new NetworkPluginError(e, net.name, type, env.command);
    throw e;
  }
}

/** ADD: plugins in order, each getting the previous result; returns the final result (net.cniVersion). */
export async function addNetwork(net: NetworkConfig, params: CallParams): Promise<unknown> {
  let prev: unknown;
  const env = delegateEnv('ADD', params);
  for (const plugin of net.plugins) {
    prev = await runPlugin(net, plugin, env, params, prev);
  }
  return prev;
}

/** DEL: plugins in reverse, each given the ADD result; stops at the first failure like libcni. */
export async function delNetwork(net: NetworkConfig, params: CallParams, addResult: unknown): Promise<void> {
  const env = delegateEnv('DEL', params);
  // 0.1.0/0.2.0 plugins do not take prevResult.
  const prev = versionAtLeast(net.cniVersion, '0.3.0') ? (addResult ?? undefined) : undefined;
  for (const plugin of [...net.plugins].reverse()) await runPlugin(net, plugin, env, params, prev);
}

/** CHECK: only defined from 0.4.0; skipped when disableCheck is set. Returns false when not applicable. */
export async function checkNetwork(net: NetworkConfig, params: CallParams, addResult: unknown): Promise<boolean> {
  if (net.disableCheck || !versionAtLeast(net.cniVersion, '0.4.0')) return false;
  const env = delegateEnv('CHECK', params);
  for (const plugin of net.plugins) await runPlugin(net, plugin, env, params, addResult);
  return true;
}

/** GC (>= 1.1.0): every plugin, continuing past failures; returns the errors. */
export async function gcNetwork(net: NetworkConfig, path: string[], valid: { containerID: string; ifname: string }[]): Promise<CniError[]> {
  if (!versionAtLeast(net.cniVersion, '1.1.0')) return [];
  const errors: CniError[] = [];
  const env: DelegateEnv = { command: 'GC', containerId: '', netns: '', ifname: '', args: '', path };
  for (const plugin of net.plugins) {
    const { capabilities: _c, ...conf } = plugin;
    const req = { ...conf, cniVersion: net.cniVersion, name: net.name, 'cni.dev/valid-attachments': valid, 'cni.dev/attachments': valid };
    const type = String(plugin['type']);
    try {
      await execPlugin(findPlugin(type, path), env, req);
    } catch (e) {
      if (!(e instanceof CniError)) throw e;
      errors.push(new NetworkPluginError(e, net.name, type, 'GC'));
    }
  }
  return errors;
}

/** STATUS (>= 1.1.0): every plugin; the first error is returned to the caller. */
export async function statusNetwork(net: NetworkConfig, path: string[]): Promise<boolean> {
  if (!versionAtLeast(net.cniVersion, '1.1.0')) return false;
  const env: DelegateEnv = { command: 'STATUS', containerId: '', netns: '', ifname: '', args: '', path };
  const params: CallParams = { containerId: '', netns: '', ifname: '', args: '', path, capabilityArgs: {} };
  for (const plugin of net.plugins) await runPlugin(net, plugin, env, params, undefined);
  return true;
}
