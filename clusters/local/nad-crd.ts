// Creates the NetworkAttachmentDefinition CRD (fixtures/crds) and waits until its resource is served.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ApiError, type ApiClient } from './api-client.ts';
import { setTimeout as sleep } from 'node:timers/promises';

const CRD_FILE = fileURLToPath(new URL('../../fixtures/crds/network-attachment-definition.yaml', import.meta.url));

export async function applyNadCrd(api: ApiClient): Promise<void> {
  const crd: unknown = parse(readFileSync(CRD_FILE, 'utf8'));
  try {
    await api.post('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 409)) throw err;
  }
  for (let i = 0; i < 100; i++) {
    if (await api.find('/apis/k8s.cni.cncf.io/v1/network-attachment-definitions')) return;
    await sleep(50);
  }
  throw new Error('the network-attachment-definitions resource is not served 5 s after creating its CRD');
}
