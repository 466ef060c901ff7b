import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseFlags } from '../../plugin/install/flags.ts';
import { manifestsYaml, thickDaemonConfig, upstreamThickManifests, upstreamThinManifests, type K8sObject } from './manifests.ts';

interface Mount { name: string; mountPath: string; mountPropagation?: string }
interface Container { name: string; image: string; command: string[]; volumeMounts: Mount[]; env?: unknown[]; resources?: unknown }
interface PodSpec {
  hostNetwork: boolean;
  hostPID?: boolean;
  serviceAccountName: string;
  tolerations: unknown[];
  containers: Container[];
  initContainers: Container[];
  volumes: { name: string; hostPath?: { path: string }; configMap?: unknown }[];
}
type DaemonSet = K8sObject & { spec: { selector: unknown; template: { metadata: { labels: unknown }; spec: PodSpec } } };

const upstream = (file: string): K8sObject[] =>
  parseAllDocuments(readFileSync(new URL(`./testdata/upstream/${file}`, import.meta.url), 'utf8')).map((d) => d.toJS() as K8sObject).filter(Boolean);
const ours = (objects: K8sObject[]): K8sObject[] => parseAllDocuments(manifestsYaml(objects)).map((d) => d.toJS() as K8sObject);
const byKind = (objects: K8sObject[], kind: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind);
  if (!o) throw new Error(`no ${kind}`);
  return o;
};
const ds = (objects: K8sObject[]): DaemonSet => byKind(objects, 'DaemonSet') as DaemonSet;
const hostPaths = (spec: PodSpec): Map<string, string> =>
  new Map(spec.volumes.flatMap((v) => (v.hostPath ? [[v.name, v.hostPath.path] as [string, string]] : [])));

describe.each([
  ['thin', 'multus-daemonset.yml', upstreamThinManifests('multus-e2e.local/multus-thin:0123456789ab')],
  ['thick', 'multus-daemonset-thick.yml', upstreamThickManifests('multus-e2e.local/multus-thick:0123456789ab')],
])('upstream %s manifests on kind', (kind, file, objects) => {
  const theirs = upstream(file);
  const mine = ours(objects);
  const theirDs = ds(theirs);
  const myDs = ds(mine);

  it('have upstream RBAC, service account, DaemonSet name, labels, selector, tolerations and host namespaces', () => {
    expect(mine.map((o) => o.kind)).toEqual(theirs.map((o) => o.kind).filter((k) => k !== 'CustomResourceDefinition' && (kind === 'thick' || k !== 'ConfigMap')));
    expect(byKind(mine, 'ClusterRole')).toEqual(byKind(theirs, 'ClusterRole'));
    expect(byKind(mine, 'ClusterRoleBinding')).toEqual(byKind(theirs, 'ClusterRoleBinding'));
    expect(byKind(mine, 'ServiceAccount')).toEqual(byKind(theirs, 'ServiceAccount'));
    expect(myDs.metadata).toEqual(theirDs.metadata);
    expect(myDs.spec.selector).toEqual(theirDs.spec.selector);
    expect(myDs.spec.template.metadata.labels).toEqual(theirDs.spec.template.metadata.labels);
    const [m, t] = [myDs.spec.template.spec, theirDs.spec.template.spec];
    expect([m.hostNetwork, m.hostPID, m.serviceAccountName, m.tolerations]).toEqual([t.hostNetwork, t.hostPID, t.serviceAccountName, t.tolerations]);
    expect(m.containers.map((c) => c.name)).toEqual(t.containers.map((c) => c.name));
    expect(m.initContainers.map((c) => c.name)).toEqual(t.initContainers.map((c) => c.name));
  });

  it('run every container from the locally built image, which the init container installs the CNI binary from', () => {
    const spec = myDs.spec.template.spec;
    for (const c of [...spec.containers, ...spec.initContainers]) expect(c.image).toBe(`multus-e2e.local/multus-${kind}:0123456789ab`);
    const install = spec.initContainers[0] as Container;
    const binary = kind === 'thin' ? 'multus' : 'multus-shim';
    expect(install.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(install.command[2]).toBe(
      `mkdir -p /host/opt/multus-e2e/plugin && cp /usr/src/multus-cni/bin/${binary} /host/opt/multus-e2e/plugin/${binary} && ` +
        `cp /usr/src/multus-e2e/cni-call-recorder /host/opt/cni/bin/${binary}.multus-e2e-new && ` +
        `mv /host/opt/cni/bin/${binary}.multus-e2e-new /host/opt/cni/bin/${binary}`,
    );
    execFileSync('sh', ['-n', '-c', install.command[2] as string]);
    // The bin dir mount is upstream's, propagation included.
    expect(install.volumeMounts).toContainEqual(theirDs.spec.template.spec.initContainers[0]?.volumeMounts[0]);
    const volumes = hostPaths(spec);
    for (const m of [...spec.containers, ...spec.initContainers].flatMap((c) => c.volumeMounts)) {
      expect(volumes.has(m.name) || spec.volumes.some((v) => v.name === m.name)).toBe(true);
    }
  });
});

describe('upstream thick on kind', () => {
  const theirs = upstream('multus-daemonset-thick.yml');
  const mine = ours(upstreamThickManifests('multus-e2e.local/multus-thick:0123456789ab'));
  const [t, m] = [ds(theirs).spec.template.spec, ds(mine).spec.template.spec];

  it('runs multus-daemon with upstream mounts, host paths, MULTUS_NODE_NAME and resources', () => {
    const [tc, mc] = [t.containers[0] as Container, m.containers[0] as Container];
    expect(mc.command).toEqual(tc.command);
    expect(mc.env).toEqual(tc.env);
    expect(mc.resources).toEqual(tc.resources);
    // Every upstream mount, plus the daemon's log file dir on the node.
    expect(mc.volumeMounts.slice(0, tc.volumeMounts.length)).toEqual(tc.volumeMounts);
    expect(mc.volumeMounts.slice(tc.volumeMounts.length)).toEqual([{ name: 'multus-log', mountPath: '/var/log/multus' }]);
    const [theirPaths, myPaths] = [hostPaths(t), hostPaths(m)];
    for (const [name, path] of theirPaths) expect(myPaths.get(name)).toBe(path);
  });

  it('has upstream daemon-config.json keys and values, plus a log file on the node', () => {
    const cm = (o: K8sObject[]) => JSON.parse((byKind(o, 'ConfigMap') as K8sObject & { data: Record<string, string> }).data['daemon-config.json'] as string) as Record<string, unknown>;
    const { logFile, ...rest } = cm(mine);
    expect(rest).toEqual(cm(theirs));
    expect(logFile).toBe('/var/log/multus/multus.log');
    expect(cm(mine)).toEqual(thickDaemonConfig());
  });
});

describe('upstream thin on kind', () => {
  const spec = ds(ours(upstreamThinManifests('multus-e2e.local/multus-thin:0123456789ab'))).spec.template.spec;

  it('writes the Multus config with the bundled installer, which does not copy a binary of its own', () => {
    const script = (spec.containers[0] as Container).command[2] as string;
    execFileSync('sh', ['-n', '-c', script]);
    const args = [...script.matchAll(/'(--[^']*)'/g)].map((mt) => mt[1] as string);
    const parsed = parseFlags(args, '/unused');
    expect(parsed).toMatchObject({ skipMultusBinaryCopy: true, multusConfFile: 'auto', cniConfDir: '/etc/cni/net.d', multusLogFile: '/var/log/multus/multus.log' });
    expect(script).toContain('exec chroot /host /opt/multus-e2e/bin/node /opt/multus-e2e/multus-install');
    expect(hostPaths(spec).get('hostroot')).toBe('/');
  });
});
