import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';

const pod = (labels: Record<string, string>, nodeName?: string) => ({ metadata: { name: 'p', namespace: 'ns', labels }, spec: { nodeName }, status: { phase: 'Running' } });

describe('label selectors', () => {
  it('supports =, ==, !=, in, notin, exists and !exists', () => {
    const p = pod({ app: 'web', tier: 'front' });
    const yes = ['app=web', 'app==web', 'app!=db', 'app in (web, db)', 'app notin (db)', 'tier', '!legacy', 'app=web,tier=front', 'missing notin (x)'];
    const no = ['app=db', 'app!=web', 'app in (db)', 'app notin (web,db)', 'legacy', '!tier', 'app=web,tier=back', 'missing in (x)'];
    for (const s of yes) expect(parseLabelSelector(s)(p), s).toBe(true);
    for (const s of no) expect(parseLabelSelector(s)(p), s).toBe(false);
    expect(parseLabelSelector(null)(p)).toBe(true);
  });

  it('rejects unparsable terms with 400', () => {
    expect(() => parseLabelSelector('a in b')).toThrow(ApiError);
  });
});

describe('field selectors', () => {
  it('matches spec.nodeName, metadata.*, status.phase with = and !=', () => {
    const bound = pod({}, 'node-1');
    expect(parseFieldSelector('spec.nodeName=node-1')(bound)).toBe(true);
    expect(parseFieldSelector('spec.nodeName=node-2')(bound)).toBe(false);
    expect(parseFieldSelector('spec.nodeName=')(pod({}))).toBe(true);
    expect(parseFieldSelector('metadata.name=p,metadata.namespace==ns,status.phase!=Pending')(bound)).toBe(true);
    expect(() => parseFieldSelector('nonsense')).toThrow(ApiError);
  });
});
