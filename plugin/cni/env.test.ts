import { describe, expect, it } from 'vitest';
import { parseCniArgs, parseEnv } from './env.ts';
import { compareVersions, assertSupported } from './version.ts';

describe('CNI environment', () => {
  it('names every missing variable with code 4', () => {
    try {
      parseEnv({ CNI_COMMAND: 'ADD', CNI_IFNAME: 'eth0' });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 4, message: 'required env variables [CNI_CONTAINERID,CNI_NETNS] missing' });
    }
  });

  it('does not require CNI_NETNS for DEL', () => {
    expect(parseEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'abc', CNI_IFNAME: 'eth0', CNI_PATH: '/a:/b' }).path).toEqual(['/a', '/b']);
  });

  it('rejects unknown commands and bad container IDs', () => {
    expect(() => parseEnv({ CNI_COMMAND: 'FOO' })).toThrow(/invalid CNI_COMMAND "FOO"/);
    expect(() => parseEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: '-x', CNI_IFNAME: 'eth0' })).toThrow(/invalid CNI_CONTAINERID/);
  });

  it('parses CNI_ARGS and rejects malformed pairs', () => {
    expect([...parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=a=b')]).toEqual([
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAME', 'a=b'],
    ]);
    expect(() => parseCniArgs('novalue')).toThrow(/invalid CNI_ARGS pair "novalue"/);
  });

  it('compares versions and refuses unsupported ones with code 1', () => {
    expect(compareVersions('0.3.1', '0.4.0')).toBeLessThan(0);
    expect(compareVersions('1.1.0', '1.0.0')).toBeGreaterThan(0);
    expect(() => assertSupported('2.0.0', 'test')).toThrow(expect.objectContaining({ code: 1 }));
  });
});
