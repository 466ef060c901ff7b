// How to reach the API server: a kubeconfig file (current context) or the in-cluster service account.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { CniError, ErrorCode } from '../cni/errors.ts';
import { parseKubeconfigYaml, type YamlValue } from './kubeconfig-yaml.ts';

export interface KubeAccess {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  /**
   * The file `token` was read from. A long-lived process (the daemon) reads it again when the API server
   * refuses the token, as client-go does, so a renewed or rotated service account token is picked up.
   */
  tokenFile?: string;
  insecure: boolean;
  tlsServerName?: string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Obj = { [key: string]: YamlValue };

function obj(v: YamlValue | undefined): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined;
}

function named(list: YamlValue | undefined, name: string, field: string, file: string): Obj {
  const found = Array.isArray(list) ? list.map(obj).find((e) => e?.['name'] === name) : undefined;
  const inner = obj(found?.[field]);
  if (!inner) throw new CniError(ErrorCode.InvalidConfig, `kubeconfig ${file}: no ${field} named "${name}"`);
  return inner;
}

function str(o: Obj, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' && v ? v : undefined;
}

function fileOrData(o: Obj, fileKey: string, dataKey: string, base: string, file: string): Buffer | undefined {
  const data = str(o, dataKey);
  if (data) return Buffer.from(data, 'base64');
  const path = str(o, fileKey);
  if (!path) return undefined;
  const full = isAbsolute(path) ? path : join(base, path);
  try {
    return readFileSync(full);
  } catch (e) {
    throw new CniError(ErrorCode.InvalidConfig, `kubeconfig ${file}: cannot read ${fileKey} ${full}: ${(e as Error).message}`);
  }
}

/** Parse a kubeconfig file and resolve its current context. Relative paths are relative to the file. */
export function loadKubeconfig(file: string): KubeAccess {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CniError(ErrorCode.InvalidConfig, `cannot read kubeconfig ${file}: ${(e as Error).message}`);
  }
  let doc: Obj | undefined;
  try {
    doc = obj(parseKubeconfigYaml(text));
  } catch (e) {
    throw new CniError(ErrorCode.InvalidConfig, `cannot parse kubeconfig ${file}: ${(e as Error).message}`);
  }
  if (!doc) throw new CniError(ErrorCode.InvalidConfig, `kubeconfig ${file} is not a mapping`);
  const base = dirname(file);
  const contexts = doc['contexts'];
  const currentName = str(doc, 'current-context') ?? (Array.isArray(contexts) ? String(obj(contexts[0])?.['name'] ?? '') : '');
  const context = named(contexts, currentName, 'context', file);
  const cluster = named(doc['clusters'], String(context['cluster'] ?? ''), 'cluster', file);
  const userName = str(context, 'user');
  const user = userName ? named(doc['users'], userName, 'user', file) : {};
  const server = str(cluster, 'server');
  if (!server) throw new CniError(ErrorCode.InvalidConfig, `kubeconfig ${file}: cluster has no server`);
  let token = str(user, 'token');
  const tokenFile = str(user, 'tokenFile');
  if (!token && tokenFile) {
    const full = isAbsolute(tokenFile) ? tokenFile : join(base, tokenFile);
    try {
      token = readFileSync(full, 'utf8').trim();
    } catch (e) {
      throw new CniError(ErrorCode.InvalidConfig, `kubeconfig ${file}: cannot read tokenFile ${full}: ${(e as Error).message}`);
    }
  }
  const access: KubeAccess = { server: server.replace(/\/+$/, ''), insecure: cluster['insecure-skip-tls-verify'] === true };
  const ca = fileOrData(cluster, 'certificate-authority', 'certificate-authority-data', base, file);
  if (ca) access.ca = ca;
  const cert = fileOrData(user, 'client-certificate', 'client-certificate-data', base, file);
  if (cert) access.cert = cert;
  const key = fileOrData(user, 'client-key', 'client-key-data', base, file);
  if (key) access.key = key;
  if (token) access.token = token;
  if (token && !str(user, 'token') && tokenFile) access.tokenFile = isAbsolute(tokenFile) ? tokenFile : join(base, tokenFile);
  const sni = str(cluster, 'tls-server-name');
  if (sni) access.tlsServerName = sni;
  return access;
}

/** In-cluster access from KUBERNETES_SERVICE_HOST/PORT and the service account files. */
export function inClusterAccess(env: NodeJS.ProcessEnv, saDir = SERVICE_ACCOUNT_DIR): KubeAccess | undefined {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) return undefined;
  const h = host.includes(':') ? `[${host}]` : host;
  try {
    return {
      server: `https://${h}:${port}`,
      token: readFileSync(join(saDir, 'token'), 'utf8').trim(),
      tokenFile: join(saDir, 'token'),
      ca: readFileSync(join(saDir, 'ca.crt')),
      insecure: false,
    };
  } catch (e) {
    throw new CniError(ErrorCode.InvalidConfig, `in-cluster config: cannot read service account in ${saDir}: ${(e as Error).message}`);
  }
}

/** Reads `access.tokenFile` again; true when it now holds another token, which replaces `access.token`. */
export function reloadToken(access: KubeAccess): boolean {
  if (!access.tokenFile) return false;
  let next: string;
  try {
    next = readFileSync(access.tokenFile, 'utf8').trim();
  } catch {
    return false;
  }
  if (!next || next === access.token) return false;
  access.token = next;
  return true;
}
