import { describe, expect, it } from 'vitest';
import { kindSettingsFromEnv, parsePrimaryNetwork, validateClusterName, DEFAULT_ETH1_SUBNET, DEFAULT_INSTALLER_IMAGE } from './settings.ts';

describe('kind settings', () => {
  it('defaults to kindnet, busybox installer, eth1 on 198.18.252.0/24 and this Node.js', () => {
    const s = kindSettingsFromEnv({});
    expect(s).toMatchObject({ primary: { kind: 'kindnet' }, installerImage: DEFAULT_INSTALLER_IMAGE, eth1Subnet: DEFAULT_ETH1_SUBNET, nodeBinary: process.execPath, keepOnFailure: false });
    expect(s.image).toBeUndefined();
    expect(s.pluginImage).toBeUndefined();
  });

  it('reads MULTUS_E2E_KIND_* and MULTUS_E2E_PLUGIN_IMAGE', () => {
    const s = kindSettingsFromEnv({
      MULTUS_E2E_KIND_IMAGE: 'kindest/node:v1.32.0',
      MULTUS_E2E_KIND_PRIMARY: 'manifest:/tmp/calico.yaml',
      MULTUS_E2E_PLUGIN_IMAGE: 'ghcr.io/k8snetworkplumbingwg/multus-cni:v4.1.0',
      MULTUS_E2E_KIND_ETH1_SUBNET: '198.18.250.0/24',
      MULTUS_E2E_KIND_KEEP_ON_FAILURE: '1',
      MULTUS_E2E_KIND_FAILURE_LOGS_DIR: '/tmp/reports/cluster-logs',
      MULTUS_E2E_KIND_BUSYBOX: '/opt/busybox',
      MULTUS_E2E_KIND_CNI_PLUGINS_DIR: '/opt/cni-linux',
      MULTUS_E2E_KIND_NODE_BINARY: '/opt/node-linux/bin/node',
    });
    expect(s).toMatchObject({
      image: 'kindest/node:v1.32.0',
      primary: { kind: 'manifest', path: '/tmp/calico.yaml' },
      pluginImage: 'ghcr.io/k8snetworkplumbingwg/multus-cni:v4.1.0',
      eth1Subnet: '198.18.250.0/24',
      keepOnFailure: true,
      failureLogsDir: '/tmp/reports/cluster-logs',
      busybox: '/opt/busybox',
      referencePluginsDir: '/opt/cni-linux',
      nodeBinary: '/opt/node-linux/bin/node',
    });
  });

  it('names the bad primary network value', () => {
    expect(parsePrimaryNetwork('bridge')).toEqual({ kind: 'bridge' });
    expect(() => parsePrimaryNetwork('calico')).toThrow('unknown primary network "calico" for the kind provider: use kindnet, bridge or manifest:PATH');
    expect(() => parsePrimaryNetwork('manifest:')).toThrow(/unknown primary network "manifest:"/);
  });

  it('accepts kind cluster names and refuses others', () => {
    for (const ok of ['me2e', 'a', 'ci-1.x']) expect(() => validateClusterName(ok)).not.toThrow();
    for (const bad of ['', 'Me2e', '-x', 'x-', 'a_b', 'a'.repeat(51)]) expect(() => validateClusterName(bad)).toThrow(/invalid kind cluster name/);
  });
});
