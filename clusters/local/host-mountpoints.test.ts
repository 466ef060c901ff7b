import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordMissingDirs, removeCreatedDirsIfLastCluster } from './host-mountpoints.ts';

describe('mount points the provider created on the host', () => {
  let root = '';
  let record = '';
  let netns = '';
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'me2e-mountpoints-'));
    record = join(root, 'record', 'created');
    netns = join(root, 'netns');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('records only the missing components and removes them once no cluster netns is left', () => {
    mkdirSync(join(root, 'etc'), { recursive: true });
    recordMissingDirs(join(root, 'etc/cni/net.d'), record);
    recordMissingDirs(join(root, 'etc/cni/multus/net.d'), record);
    expect(readFileSync(record, 'utf8').trim().split('\n')).toEqual([
      join(root, 'etc/cni/net.d'), join(root, 'etc/cni'),
      join(root, 'etc/cni/multus/net.d'), join(root, 'etc/cni/multus'), join(root, 'etc/cni'),
    ]);
    for (const d of ['etc/cni/net.d', 'etc/cni/multus/net.d']) mkdirSync(join(root, d), { recursive: true });

    // Another cluster still has a netns: nothing is touched, the record stays.
    mkdirSync(netns);
    writeFileSync(join(netns, 'me2eabc123-node-1'), '');
    expect(removeCreatedDirsIfLastCluster(record, netns)).toEqual([]);
    expect(existsSync(join(root, 'etc/cni/net.d'))).toBe(true);

    // A test's own netns with another prefix does not count as a cluster.
    rmSync(join(netns, 'me2eabc123-node-1'));
    writeFileSync(join(netns, 'me2ep-test'), '');
    const removed = removeCreatedDirsIfLastCluster(record, netns);
    expect(removed).toContain(join(root, 'etc/cni'));
    expect(existsSync(join(root, 'etc/cni'))).toBe(false);
    expect(existsSync(join(root, 'etc'))).toBe(true);
    expect(existsSync(record)).toBe(false);
  });

  it('leaves a recorded dir that someone else has put files in', () => {
    recordMissingDirs(join(root, 'var/log/multus'), record);
    mkdirSync(join(root, 'var/log/multus'), { recursive: true });
    writeFileSync(join(root, 'var/log/multus/other.log'), 'x');
    expect(removeCreatedDirsIfLastCluster(record, netns)).toEqual([]);
    expect(existsSync(join(root, 'var/log/multus/other.log'))).toBe(true);
  });
});
