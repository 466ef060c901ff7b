import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseFlags } from '../../plugin/install/flags.ts';
import { thickDaemonConfig } from '../../plugin/install/install.ts';
import {
  bundledPluginManifests, bundledThickManifests, installerArgs, manifestsYaml, PLUGIN_RBAC_RULES, thickInstallerArgs, upstreamPluginManifests, type K8sObject,
} from './manifests.ts';

interface Container {
  name: string;
  image: string;
  command: string[];
  args?: string[];
  volumeMounts: { name: string; mountPath: string }[];
  readinessProbe?: { exec: { command: string[] } };
}
interface PodSpec {
  hostNetwork: boolean;
  serviceAccountName: string;
  containers: Container[];
  initContainers?: Container[];
  volumes: { name: string; hostPath: { path: string } }[];
  tolerations: unknown[];
}

const roundTrip = (objects: K8sObject[]): K8sObject[] => parseAllDocuments(manifestsYaml(objects)).map((d) => d.toJS() as K8sObject);
const find = (objects: K8sObject[], kind: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind);
  if (!found) throw new Error(`no ${kind}`);
  return found;
};
const podSpec = (ds: K8sObject): PodSpec => (ds as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;

/** Whether the ClusterRole grants verb on resource in group. */
function allows(rules: typeof PLUGIN_RBAC_RULES, group: string, resource: string, verb: string): boolean {
  return rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
}

describe.each([
  ['bundled', bundledPluginManifests('busybox:1.36', 'ab12')],
  ['bundled thick', bundledThickManifests('busybox:1.36', 'ab12')],
  ['upstream', upstreamPluginManifests('example.com/multus:thin')],
])('%s plugin manifests', (_name, objects) => {
  const docs = roundTrip(objects);

  it('are valid Kubernetes objects that survive YAML', () => {
    expect(docs).toEqual(objects);
    for (const o of docs) {
      expect(o.apiVersion).toMatch(/^(v1|apps\/v1|rbac\.authorization\.k8s\.io\/v1)$/);
      expect(o.kind).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    }
    expect(docs.map((o) => o.kind)).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'DaemonSet']);
  });

  it('bind the DaemonSet service account to a role covering what the plugin does', () => {
    const sa = find(docs, 'ServiceAccount');
    const binding = find(docs, 'ClusterRoleBinding') as K8sObject & { roleRef: { name: string }; subjects: { name: string; namespace: string }[] };
    const role = find(docs, 'ClusterRole') as K8sObject & { rules: typeof PLUGIN_RBAC_RULES };
    expect(binding.roleRef.name).toBe(role.metadata.name);
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
    expect(podSpec(find(docs, 'DaemonSet')).serviceAccountName).toBe(sa.metadata.name);
    const r = role.rules;
    expect(allows(r, '', 'pods', 'get')).toBe(true);
    expect(allows(r, '', 'pods/status', 'update')).toBe(true);
    expect(allows(r, '', 'pods/status', 'patch')).toBe(true);
    expect(allows(r, 'k8s.cni.cncf.io', 'network-attachment-definitions', 'get')).toBe(true);
    expect(allows(r, 'k8s.cni.cncf.io', 'network-attachment-definitions', 'list')).toBe(true);
    expect(allows(r, '', 'events', 'create')).toBe(true);
    expect(allows(r, 'events.k8s.io', 'events', 'create')).toBe(true);
    // Nothing broader than needed: no secrets, no NAD writes.
    expect(allows(r, '', 'secrets', 'get')).toBe(false);
    expect(allows(r, 'k8s.cni.cncf.io', 'network-attachment-definitions', 'delete')).toBe(false);
  });

  it('run on every node, on the host network, with hostPath mounts that exist as volumes', () => {
    const spec = podSpec(find(docs, 'DaemonSet'));
    expect(spec.hostNetwork).toBe(true);
    expect(spec.tolerations).toContainEqual({ operator: 'Exists', effect: 'NoSchedule' });
    const volumes = new Set(spec.volumes.map((v) => v.name));
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
      for (const m of c.volumeMounts) expect(volumes.has(m.name)).toBe(true);
    }
    const ds = find(docs, 'DaemonSet') as K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> } } } };
    expect(ds.spec.template.metadata.labels).toMatchObject(ds.spec.selector.matchLabels);
  });
});

describe('bundled installer DaemonSet', () => {
  const spec = podSpec(find(bundledPluginManifests('busybox:1.36', 'ab12'), 'DaemonSet'));
  const container = spec.containers[0] as Container;

  it('mounts the node root and execs the installer chroot’ed into it with the copied runtime', () => {
    expect(spec.volumes).toEqual([{ name: 'host-root', hostPath: { path: '/', type: 'Directory' } }]);
    expect(container.volumeMounts).toEqual([{ name: 'host-root', mountPath: '/host' }]);
    expect(container.image).toBe('busybox:1.36');
    const script = container.command[2] as string;
    expect(container.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(script).toContain('cp /var/run/secrets/kubernetes.io/serviceaccount/token /var/run/secrets/kubernetes.io/serviceaccount/ca.crt /host/var/lib/multus-e2e/serviceaccount/');
    expect(script).toContain("exec chroot /host /opt/multus-e2e/bin/node /opt/multus-e2e/multus-install '--cni-conf-dir=/etc/cni/net.d'");
    // The script is valid shell (checked by the shell itself, not by eye).
    execFileSync('sh', ['-n', '-c', script]);
    expect(container.readinessProbe?.exec.command).toEqual(['sh', '-c', "ls /host/etc/cni/net.d | grep -q '^00-multus\\.conf'"]);
  });

  it('carries the payload digest in the pod template, so a new plugin build rolls the DaemonSet', () => {
    const ds = find(bundledPluginManifests('busybox:1.36', 'ab12'), 'DaemonSet') as K8sObject & { spec: { template: { metadata: { annotations: Record<string, string> } } } };
    expect(ds.spec.template.metadata.annotations).toEqual({ 'multus-e2e.io/payload-sha256': 'ab12' });
  });

  it('passes installer flags the bundled installer accepts, with node-side paths', () => {
    const parsed = parseFlags(installerArgs('/opt/multus-e2e/cni-call-recorder'), '/unused');
    expect(parsed).toMatchObject({
      cniConfDir: '/etc/cni/net.d',
      cniBinDir: '/opt/cni/bin',
      multusBinary: '/opt/multus-e2e/cni-call-recorder',
      multusConfFile: 'auto',
      multusKubeconfigFileHost: '/etc/cni/net.d/multus.d/multus.kubeconfig',
      multusLogFile: '/var/log/multus/multus.log',
      multusLogLevel: 'verbose',
      serviceAccountDir: '/var/lib/multus-e2e/serviceaccount',
      cleanupConfigOnExit: true,
      waitForDefaultNetworkSeconds: 120,
    });
  });
});

describe('bundled thick DaemonSet', () => {
  const spec = podSpec(find(bundledThickManifests('busybox:1.36', 'ab12'), 'DaemonSet')) as PodSpec & { hostPID: boolean };
  const container = spec.containers[0] as Container & { env: unknown[] };

  it('runs the installer in thick mode, then becomes multus-daemon, both chroot’ed into the node root', () => {
    expect(spec.hostPID).toBe(true);
    const script = container.command[2] as string;
    execFileSync('sh', ['-n', '-c', script]);
    const lines = script.split('\n');
    expect(lines.at(-2)).toMatch(/^chroot \/host \/opt\/multus-e2e\/bin\/node \/opt\/multus-e2e\/multus-install '--thick' /);
    expect(lines.at(-1)).toBe("exec chroot /host '/opt/multus-e2e/bin/node' '/opt/multus-e2e/multus-daemon' '--config=/etc/cni/net.d/multus.d/daemon-config.json'");
    expect(container.env).toEqual([{ name: 'MULTUS_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }]);
    expect(container.readinessProbe?.exec.command).toEqual(['sh', '-c', "ls /host/etc/cni/net.d | grep -q '^00-multus\\.conf'"]);
  });

  it('sees the network namespaces the runtime mounts after the daemon started (HostToContainer)', () => {
    expect(container.volumeMounts).toEqual([{ name: 'host-root', mountPath: '/host', mountPropagation: 'HostToContainer' }]);
  });

  it('gives the installer flags that install the recorder as the shim and a daemon config the daemon reads on the node', () => {
    const parsed = parseFlags(thickInstallerArgs(), '/unused');
    expect(parsed).toMatchObject({ thick: true, multusBinary: '/opt/multus-e2e/cni-call-recorder', cniBinDir: '/opt/cni/bin', daemonSocketDir: '/run/multus' });
    expect(thickDaemonConfig(parsed)).toMatchObject({
      cniConfigDir: '/etc/cni/net.d', multusConfigFile: 'auto', socketDir: '/run/multus', daemonSocketDir: '/run/multus',
      logFile: '/var/log/multus/multus.log', logLevel: 'verbose', serviceAccountDir: '/var/lib/multus-e2e/serviceaccount',
    });
  });
});

describe('upstream thin DaemonSet', () => {
  it('installs the binary from the user image and runs its thin entrypoint with the JSON log file', () => {
    const spec = podSpec(find(upstreamPluginManifests('example.com/multus:thin'), 'DaemonSet'));
    expect(spec.initContainers?.[0]).toMatchObject({ image: 'example.com/multus:thin', command: ['/install_multus'], args: ['--type', 'thin'] });
    expect(spec.containers[0]?.args).toContain('--multus-log-file=/var/log/multus/multus.log');
    expect(spec.volumes.map((v) => v.hostPath.path).sort()).toEqual(['/etc/cni/net.d', '/opt/cni/bin']);
  });
});
