import { describe, expect, it } from 'vitest';
import { installerArgv, INSTALLER } from './plugin-install.ts';

describe('thin plugin install', () => {
  it('runs the bundled installer with the chosen config shape, and the thin binary when one is given', () => {
    const bundled = installerArgv({ kind: 'bundled' }, 'delegates', '/w/nodes/node-1/serviceaccount');
    expect(bundled.slice(1)).toEqual([
      INSTALLER, '--multus-conf-file=auto', '--multus-config-shape=delegates', '--multus-log-file=/var/log/multus/multus.log',
      '--multus-log-level=verbose', '--cni-conf-dir=/etc/cni/net.d', '--cni-bin-dir=/opt/cni/bin', '--service-account-dir=/w/nodes/node-1/serviceaccount',
    ]);
    const thin = installerArgv({ kind: 'thin', path: '/up/multus' }, 'cluster-network-file', '/sa');
    expect(thin).toContain('--multus-config-shape=cluster-network-file');
    expect(thin.at(-1)).toBe('--multus-binary=/up/multus');
  });
});
