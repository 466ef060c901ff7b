import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { choosePodNode, isExtendedResource, podExtendedRequests, type SchedulableNode } from './scheduler.ts';

function pod(name: string, opts: { node?: string; vf?: number; selector?: Record<string, string>; phase?: string } = {}): V1Pod {
  return {
    metadata: { name, namespace: 'default', uid: name },
    spec: {
      nodeName: opts.node,
      nodeSelector: opts.selector,
      containers: [{ name: 'c', image: 'x', resources: opts.vf ? { limits: { 'netdevsim.io/vf': String(opts.vf) } } : undefined }],
    },
    status: { phase: opts.phase ?? 'Running' },
  };
}

const nodes: SchedulableNode[] = [
  { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' }, extended: { 'netdevsim.io/vf': 2 } },
  { name: 'node-2', labels: { 'kubernetes.io/hostname': 'node-2' }, extended: {} },
];

describe('scheduler', () => {
  it('spreads pods: the node with fewer active pods wins', () => {
    expect(choosePodNode(pod('a'), nodes, [pod('x', { node: 'node-1' })])).toEqual({ node: 'node-2' });
    expect(choosePodNode(pod('a'), nodes, [pod('x', { node: 'node-1', phase: 'Succeeded' })])).toEqual({ node: 'node-1' });
  });

  it('honours nodeSelector and explains a miss', () => {
    expect(choosePodNode(pod('a', { selector: { 'kubernetes.io/hostname': 'node-2' } }), nodes, [])).toEqual({ node: 'node-2' });
    expect(choosePodNode(pod('a', { selector: { zone: 'x' } }), nodes, [])).toEqual({
      unschedulable: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.",
    });
  });

  it('counts extended resources against capacity', () => {
    expect(choosePodNode(pod('a', { vf: 1 }), nodes, [])).toEqual({ node: 'node-1' });
    expect(choosePodNode(pod('a', { vf: 1 }), nodes, [pod('b', { node: 'node-1', vf: 2 })])).toEqual({
      unschedulable: '0/2 nodes are available: 2 Insufficient netdevsim.io/vf.',
    });
    expect(choosePodNode(pod('a', { vf: 3 }), nodes, [])).toEqual({ unschedulable: '0/2 nodes are available: 2 Insufficient netdevsim.io/vf.' });
  });

  it('tells extended resources from built-in ones and rejects fractions', () => {
    expect(isExtendedResource('netdevsim.io/vf')).toBe(true);
    expect(isExtendedResource('cpu')).toBe(false);
    expect(isExtendedResource('kubernetes.io/foo')).toBe(false);
    const p = pod('a');
    p.spec!.containers[0]!.resources = { requests: { 'netdevsim.io/vf': '0.5' } };
    expect(() => podExtendedRequests(p)).toThrow(/container c: extended resource netdevsim.io\/vf must be a whole number/);
  });
});
