import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ipFamily } from './ip.ts';

/** A deterministic generator, so a failure names a case that can be rerun. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A valid-looking IPv6 address: 8 units, maybe a dotted quad at the end, maybe one run compressed, maybe a zone. */
function v6(r: () => number): string {
  const hex = () => Math.floor(r() * 0x10000).toString(16).slice(0, 1 + Math.floor(r() * 4));
  const quad = () => Array.from({ length: 4 }, () => String(Math.floor(r() * 256))).join('.');
  const units = Array.from({ length: r() < 0.3 ? 6 : 8 }, hex);
  let text: string;
  if (r() < 0.6) {
    const from = Math.floor(r() * units.length);
    const len = Math.floor(r() * (units.length - from + 1));
    text = `${units.slice(0, from).join(':')}::${units.slice(from + len).join(':')}`;
  } else text = units.join(':');
  if (units.length === 6) text += (text.endsWith(':') ? '' : ':') + quad();
  if (r() < 0.1) text += '%eth0';
  return text;
}

describe('ipFamily', () => {
  it('answers as net.isIP on hand-picked addresses and near misses', () => {
    const cases = [
      '', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1.2.3.4 ', ' 1.2.3.4', '1..2.3', '1.2.3.04',
      '::', '::1', '1::', ':1', '1:', ':::', '1::2::3', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::', '::1:2:3:4:5:6:7',
      '::1:2:3:4:5:6:7:8', '1:2:3:4::5:6:7:8', '12345::', 'abcd:EF01::', 'g::1', '::ffff:198.18.0.1', '::ffff:198.18.0.01',
      '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5::1.2.3.4', '1:2:3:4:5:6::1.2.3.4', '1.2.3.4::', '::1.2.3.4:1', '2001:db8::10', 'fe80::1%eth0',
      'fe80::1%', '%eth0', '::%a', 'fe80::1%eth0.1-x:y', 'fe80::1%eth/0', '1.2.3.4%eth0', '2001:db8::/64', '198.18.0.1/24',
      '::1\n', '1.2.3.4\n', '\u0661.2.3.4', '１.2.3.4', '::ffff:198.18.0.1%x', 'fe80::1%%', '1:2:3:4:5:6:7:8%eth0', '1:2:3:4:5:6:7::%z',
      '::1.2.3', '::1.2.3.4.5', '1:2:3:4:5:6:7:1.2.3.4', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'FFFF::ffff:255.255.255.255', '0:0:0:0:0:0:0:0',
    ];
    for (const c of cases) expect([c, ipFamily(c)]).toEqual([c, isIP(c)]);
  });

  it('answers as net.isIP on generated addresses and on random strings of their characters', () => {
    const r = rng(20261201);
    const alphabet = '0123456789abcdefABCDEFg:.%-';
    let valid = 0;
    for (let n = 0; n < 20000; n++) {
      let s = v6(r);
      // Every other case is mutated: one character replaced, removed or doubled.
      if (n % 2) {
        const at = Math.floor(r() * (s.length + 1));
        const c = alphabet[Math.floor(r() * alphabet.length)] as string;
        const how = r();
        s = how < 0.4 ? s.slice(0, at) + c + s.slice(at + 1) : how < 0.7 ? s.slice(0, at) + s.slice(at + 1) : s.slice(0, at) + c + s.slice(at);
      }
      if (isIP(s)) valid++;
      expect([s, ipFamily(s)]).toEqual([s, isIP(s)]);
      const quad = Array.from({ length: 3 + Math.floor(r() * 3) }, () => String(Math.floor(r() * 300)).padStart(1 + Math.floor(r() * 2), '0')).join('.');
      expect([quad, ipFamily(quad)]).toEqual([quad, isIP(quad)]);
    }
    // Both answers occur often enough for the comparison to mean something.
    expect(valid).toBeGreaterThan(5000);
    expect(valid).toBeLessThan(19000);
  });
});
