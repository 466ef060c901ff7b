import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.ts';
import { ObjectStore } from './store.ts';

describe('ObjectStore', () => {
  it('uses one resourceVersion counter for all resources and replays events after a version', () => {
    const s = new ObjectStore();
    const a = s.put('/pods', { metadata: { name: 'a', namespace: 'ns' } });
    const b = s.put('/configmaps', { metadata: { name: 'b', namespace: 'ns' } });
    expect(Number((b.metadata as { resourceVersion: string }).resourceVersion)).toBe(Number((a.metadata as { resourceVersion: string }).resourceVersion) + 1);
    s.remove('/pods', 'ns', 'a');
    const seen: string[] = [];
    const stop = s.subscribe('/pods', 0, (e) => seen.push(`${e.type}@${e.rv}`));
    stop();
    expect(seen).toEqual(['ADDED@1', 'DELETED@3']);
  });

  it('answers 410 Expired for versions older than the event log', () => {
    const s = new ObjectStore();
    for (let i = 0; i < 20_005; i++) s.put('/configmaps', { metadata: { name: `c${i % 10}`, namespace: 'ns' } });
    let err: unknown;
    try {
      s.subscribe('/configmaps', 1, () => undefined);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(410);
    expect((err as ApiError).reason).toBe('Expired');
    expect(() => s.subscribe('/configmaps', 20_000, () => undefined)).not.toThrow();
  });
});
