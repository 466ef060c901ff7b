// The Kubernetes objects the plugin reads: the pod being wired and NetworkAttachmentDefinitions.
import { CniError, ErrorCode } from '../cni/errors.ts';
import type { ApiCaller, KubeClient } from '../k8s/client.ts';
import { statusMessage } from '../k8s/status-message.ts';
import { inClusterAccess, loadKubeconfig } from '../k8s/kubeconfig.ts';
import type { MultusConfig } from './config.ts';
import { join } from 'node:path';

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  resourceVersion?: string;
  annotations?: Record<string, string>;
}
export interface PodObject {
  metadata: ObjectMeta;
  [key: string]: unknown;
}
export interface NadObject {
  metadata: ObjectMeta;
  spec?: { config?: string };
}

export const TLS_SESSION_FILE = '.api-tls-session';

/** An API client for one call: close() releases what the call opened; connectMs: time spent in TCP + TLS set-up. */
export type KubeHandle = ApiCaller & { close(): void; readonly connectMs?: number };

/**
 * A client when the config names a kubeconfig or the process runs in-cluster; otherwise none. The
 * client (and node:https with it) is loaded only here, so a DEL served from the cache never pays for it.
 */
export async function kubeClientFor(conf: MultusConfig, env: NodeJS.ProcessEnv = process.env): Promise<KubeClient | undefined> {
  const access = conf.kubeconfig ? loadKubeconfig(conf.kubeconfig) : inClusterAccess(env);
  if (!access) return undefined;
  const { DEFAULT_TIMING, KubeClient } = await import('../k8s/client.ts');
  const timing = { ...DEFAULT_TIMING, requestTimeoutMs: conf.apiTimeoutSeconds * 1000 };
  // The TLS session is kept beside the cache entries (a dot file: never a container ID).
  return new KubeClient(access, timing, 1, join(conf.cniDir, TLS_SESSION_FILE));
}

const enc = encodeURIComponent;

export function podPath(ns: string, name: string): string {
  return `/api/v1/namespaces/${enc(ns)}/pods/${enc(name)}`;
}

/** `fresh`: read from the API server even where a cache would answer (the daemon's answers exact paths only). */
export async function getPod(client: ApiCaller, ns: string, name: string, fresh = false): Promise<PodObject> {
  const res = await client.call('GET', fresh ? `${podPath(ns, name)}?resourceVersion=` : podPath(ns, name));
  if (res.status === 404) throw new CniError(ErrorCode.PodNotFound, `pod ${ns}/${name} not found`);
  if (res.status !== 200) throw new CniError(ErrorCode.ApiFailure, `reading pod ${ns}/${name}: HTTP ${res.status}: ${statusMessage(res.body)}`);
  return res.body as PodObject;
}

/** The NAD, or undefined when it does not exist. */
export async function getNad(client: ApiCaller, ns: string, name: string): Promise<NadObject | undefined> {
  const res = await client.call('GET', `/apis/k8s.cni.cncf.io/v1/namespaces/${enc(ns)}/network-attachment-definitions/${enc(name)}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) {
    throw new CniError(ErrorCode.ApiFailure, `reading NetworkAttachmentDefinition ${ns}/${name}: HTTP ${res.status}: ${statusMessage(res.body)}`);
  }
  return res.body as NadObject;
}
