// Test fixture: an API server on a free port with its own temporary cert dir, plus a kubeconfig
// for it on disk. Only used by the *.test.ts files of this folder.

import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import * as k8s from '@kubernetes/client-node';
import { kubeconfigYaml, startApiServer, type RunningApiServer } from './index.ts';

export interface TestServer {
  server: RunningApiServer;
  dir: string;
  kubeconfig: string;
  kubeconfigPath: string;
  stop(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'me2e-apisrv-test-'));
  const server = await startApiServer({ certDir: join(dir, 'certs'), port: 0 });
  const kubeconfig = kubeconfigYaml(server.url, server.caPem, server.token);
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });
  return {
    server, dir, kubeconfig, kubeconfigPath,
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The suite's own NAD CRD manifest, so the tests exercise the object every provider installs. */
export const NAD_CRD = parse(
  readFileSync(fileURLToPath(new URL('../../../fixtures/crds/network-attachment-definition.yaml', import.meta.url)), 'utf8'),
) as k8s.V1CustomResourceDefinition & { metadata: { name: string } };

/** The @kubernetes/client-node clients the tests use, configured for a test server. */
export function clientsFor(ts: TestServer) {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(ts.kubeconfig);
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    ext: kc.makeApiClient(k8s.ApiextensionsV1Api),
  };
}
