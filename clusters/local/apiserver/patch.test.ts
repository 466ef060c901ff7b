import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.ts';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ApiError ? err.code : -1;
  }
  return undefined;
}

describe('merge patch (RFC 7386)', () => {
  it('merges maps, deletes with null and replaces lists', () => {
    const target = { metadata: { labels: { a: '1', b: '2' } }, spec: { list: [1, 2], keep: true } };
    expect(mergePatch(target, { metadata: { labels: { a: null, c: '3' } }, spec: { list: [3] } }))
      .toEqual({ metadata: { labels: { b: '2', c: '3' } }, spec: { list: [3], keep: true } });
    expect(target.metadata.labels).toEqual({ a: '1', b: '2' });
  });
});

describe('strategic merge patch', () => {
  const pod = {
    metadata: { annotations: { x: '1' }, finalizers: ['a'] },
    spec: { containers: [{ name: 'c1', image: 'i1', env: [{ name: 'A', value: '1' }] }, { name: 'c2', image: 'i2' }], volumes: [{ name: 'v' }] },
  };

  it('merges lists by their merge key and keeps unnamed entries', () => {
    const out = strategicMergePatch(pod, { spec: { containers: [{ name: 'c1', image: 'i1b', env: [{ name: 'B', value: '2' }] }] } }) as typeof pod;
    expect(out.spec.containers).toEqual([
      { name: 'c1', image: 'i1b', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
      { name: 'c2', image: 'i2' },
    ]);
  });

  it('honours $patch delete/replace, $setElementOrder, $deleteFromPrimitiveList and merged primitive lists', () => {
    const out = strategicMergePatch(pod, {
      metadata: { finalizers: ['b'], annotations: { x: null, y: '2' } },
      spec: {
        containers: [{ name: 'c1', $patch: 'delete' }, { name: 'c3', image: 'i3' }],
        '$setElementOrder/containers': [{ name: 'c3' }, { name: 'c2' }],
        volumes: [{ name: 'w' }, { $patch: 'replace' }],
      },
    }) as { metadata: { finalizers: string[]; annotations: Record<string, string> }; spec: { containers: { name: string }[]; volumes: unknown[] } };
    expect(out.metadata.finalizers).toEqual(['a', 'b']);
    expect(out.metadata.annotations).toEqual({ y: '2' });
    expect(out.spec.containers.map((c) => c.name)).toEqual(['c3', 'c2']);
    expect(out.spec.volumes).toEqual([{ name: 'w' }]);
    const removed = strategicMergePatch(pod, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }) as typeof pod;
    expect(removed.metadata.finalizers).toEqual([]);
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc = { metadata: { labels: { 'a/b': '1' } }, list: [1, 2, 3] };

  it('applies add, remove, replace, move, copy and test', () => {
    expect(jsonPatch(doc, [
      { op: 'add', path: '/list/-', value: 4 },
      { op: 'add', path: '/list/0', value: 0 },
      { op: 'remove', path: '/list/1' },
      { op: 'replace', path: '/metadata/labels/a~1b', value: '2' },
      { op: 'copy', from: '/metadata/labels/a~1b', path: '/metadata/labels/c' },
      { op: 'move', from: '/metadata/labels/c', path: '/moved' },
      { op: 'test', path: '/moved', value: '2' },
    ])).toEqual({ metadata: { labels: { 'a/b': '2' } }, list: [0, 2, 3, 4], moved: '2' });
  });

  it('answers 400 for malformed patches and 422 for patches that do not apply', () => {
    expect(codeOf(() => jsonPatch(doc, { op: 'add' }))).toBe(400);
    expect(codeOf(() => jsonPatch(doc, [{ op: 'frobnicate', path: '/x' }]))).toBe(400);
    expect(codeOf(() => jsonPatch(doc, [{ op: 'add', path: '/x' }]))).toBe(400);
    expect(codeOf(() => jsonPatch(doc, [{ op: 'replace', path: '/nope', value: 1 }]))).toBe(422);
    expect(codeOf(() => jsonPatch(doc, [{ op: 'remove', path: '/list/7' }]))).toBe(422);
    expect(codeOf(() => jsonPatch(doc, [{ op: 'test', path: '/list/0', value: 9 }]))).toBe(422);
  });
});
