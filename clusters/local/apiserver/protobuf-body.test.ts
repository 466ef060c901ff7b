// Protobuf request bodies: kubectl's typed clients are covered in kubectl.test.ts; here the Pod
// status update upstream Go Multus sends, encoded by hand the way client-go frames it.

import { describe, expect, it } from 'vitest';
import { ObjectApi } from './object-api.ts';
import { decodeProtobufObject } from './protobuf-body.ts';
import { BUILTIN_TYPES } from './resource-types.ts';

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A length-delimited field. */
function field(num: number, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([varint((num << 3) | 2), varint(data.length), data]);
}

function scalar(num: number, value: number): Buffer {
  return Buffer.concat([varint(num << 3), varint(value)]);
}

function envelope(kind: string, raw: Buffer): Buffer {
  const typeMeta = Buffer.concat([field(1, 'v1'), field(2, kind)]);
  return Buffer.concat([Buffer.from('k8s\0', 'binary'), field(1, typeMeta), field(2, raw), field(4, 'application/vnd.kubernetes.protobuf')]);
}

const PODS = BUILTIN_TYPES.find((t) => t.plural === 'pods')!;

describe('protobuf bodies', () => {
  it('takes only the metadata of a Pod status update and keeps spec and status', () => {
    const api = new ObjectApi();
    const target = { type: PODS, version: 'v1', namespace: 'default', name: 'p' };
    api.create(target, { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    api.update({ ...target, subresource: 'status' }, { metadata: { name: 'p' }, status: { phase: 'Running', podIP: '198.19.1.5' } });
    const rv = (api.get(target).metadata as { resourceVersion: string }).resourceVersion;

    const annotation = Buffer.concat([field(1, 'k8s.v1.cni.cncf.io/network-status'), field(2, '[{"name":"x"}]')]);
    const meta = Buffer.concat([field(1, 'p'), field(3, 'default'), field(6, rv), field(12, annotation)]);
    // Spec and status in the body (fields 2, 3) are skipped: the server keeps what it stored.
    const pod = Buffer.concat([field(1, meta), field(2, field(1, 'garbage')), field(3, field(1, 'Failed'))]);
    const decoded = decodeProtobufObject(envelope('Pod', pod));
    expect(decoded.metadataOnly).toBe(true);
    expect(decoded.object).toMatchObject({ kind: 'Pod', metadata: { name: 'p', namespace: 'default', annotations: { 'k8s.v1.cni.cncf.io/network-status': '[{"name":"x"}]' } } });

    const updated = api.update({ ...target, subresource: 'status' }, decoded.object, { metadataOnly: true });
    expect((updated.metadata as { annotations: Record<string, string> }).annotations['k8s.v1.cni.cncf.io/network-status']).toBe('[{"name":"x"}]');
    expect(updated.status).toMatchObject({ phase: 'Running', podIP: '198.19.1.5' });
    expect((updated.spec as { containers: unknown[] }).containers).toHaveLength(1);
    expect(() => api.create({ ...target, name: undefined }, decoded.object, { metadataOnly: true })).toThrow(/only accepted for updates/);
  });

  it('decodes Events with times, counts and their involved object', () => {
    const time = Buffer.concat([scalar(1, 1_800_000_000), scalar(2, 123_456_000)]);
    const ev = Buffer.concat([
      field(1, Buffer.concat([field(1, 'p.1'), field(3, 'default')])),
      field(2, Buffer.concat([field(1, 'Pod'), field(2, 'default'), field(3, 'p')])),
      field(3, 'AddedInterface'), field(4, 'Add net1 [198.18.1.5/24]'),
      field(5, field(1, 'multus')), field(6, scalar(1, 1_800_000_000)), scalar(8, 2), field(9, 'Normal'), field(10, time),
    ]);
    const { object, metadataOnly } = decodeProtobufObject(envelope('Event', ev));
    expect(metadataOnly).toBe(false);
    expect(object).toMatchObject({
      kind: 'Event', reason: 'AddedInterface', type: 'Normal', count: 2, source: { component: 'multus' },
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'p' }, eventTime: '2027-01-15T08:00:00.123456Z', firstTimestamp: '2027-01-15T08:00:00Z',
    });
  });

  it('answers 415 for kinds it cannot decode', () => {
    expect(() => decodeProtobufObject(envelope('Deployment', Buffer.alloc(0)))).toThrow(/kind "Deployment"/);
    expect(() => decodeProtobufObject(Buffer.from('{}'))).toThrow(/envelope/);
  });
});
