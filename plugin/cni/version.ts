// CNI spec versions: which we speak, how to compare them, which result shape each uses.
import { CniError, ErrorCode } from './errors.ts';

export const SUPPORTED_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

/** libcni treats a configuration without cniVersion as 0.1.0. */
export const IMPLICIT_VERSION = '0.1.0';

function parts(v: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (!m) throw new CniError(ErrorCode.DecodeFailure, `invalid cniVersion "${v}"`, 'expected MAJOR.MINOR.PATCH');
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function versionAtLeast(v: string, min: string): boolean {
  return compareVersions(v, min) >= 0;
}

/** 0.1.0 and 0.2.0 results use the ip4/ip6 form; later ones the interfaces/ips form. */
export function usesLegacyResult(v: string): boolean {
  return compareVersions(v, '0.3.0') < 0;
}

export function assertSupported(v: string, where: string): void {
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(v)) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      `incompatible CNI version "${v}" in ${where}`,
      `supported versions: ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
}
