// A kubeconfig with the CA embedded and the bearer token, for kubectl and client libraries.

import { stringify } from 'yaml';

export function kubeconfigYaml(server: string, caPem: string, token: string, name = 'multus-e2e'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: `${name}-admin`, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-admin`, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  });
}
