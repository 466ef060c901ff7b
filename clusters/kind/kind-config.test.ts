import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { controlPlaneNodeName, kindConfigYaml } from './kind-config.ts';

describe('kind cluster config', () => {
  it('is one control plane and the asked-for workers, kindnet by default', () => {
    const config = parse(kindConfigYaml({ workers: 2, disableDefaultCNI: false }));
    expect(config.kind).toBe('Cluster');
    expect(config.apiVersion).toBe('kind.x-k8s.io/v1alpha4');
    expect(config.nodes).toEqual([{ role: 'control-plane' }, { role: 'worker' }, { role: 'worker' }]);
    expect(config.networking).toEqual({ podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' });
  });

  it('disables kindnet when another primary is chosen', () => {
    const config = parse(kindConfigYaml({ workers: 3, disableDefaultCNI: true }));
    expect(config.networking.disableDefaultCNI).toBe(true);
    expect(config.nodes.filter((n: { role: string }) => n.role === 'worker')).toHaveLength(3);
  });

  it('refuses node counts kind cannot or should not run', () => {
    for (const workers of [0, -1, 1.5, 21]) {
      expect(() => kindConfigYaml({ workers, disableDefaultCNI: false })).toThrow(`nodes must be an integer from 1 to 20 (worker nodes), got ${workers}`);
    }
  });

  it('names the control plane the way kind does', () => {
    expect(controlPlaneNodeName('me2e')).toBe('me2e-control-plane');
  });
});
