// CA and serving certificate for the API server, made with the openssl CLI so that no crypto
// library is needed. Both are kept in certDir and reused; the serving cert is re-issued when it
// lacks a requested SAN (e.g. a new fabric address), the CA never is (kubeconfigs stay valid).

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServingCerts {
  caFile: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(err)}`);
  }
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const TEN_YEARS = '3650';

function sanEntries(sans: string[]): string[] {
  return [...new Set(['127.0.0.1', 'localhost', ...sans])].map((s) => (isIP(s) ? `IP:${s}` : `DNS:${s}`));
}

export async function ensureServingCerts(certDir: string, sans: string[]): Promise<ServingCerts> {
  await mkdir(certDir, { recursive: true, mode: 0o700 });
  const caFile = join(certDir, 'ca.crt');
  const caKey = join(certDir, 'ca.key');
  const certFile = join(certDir, 'apiserver.crt');
  const keyFile = join(certDir, 'apiserver.key');
  const sansFile = join(certDir, 'apiserver.sans');

  if (!existsSync(caFile) || !existsSync(caKey)) {
    await openssl(['req', '-x509', ...EC_KEY, '-keyout', caKey, '-out', caFile, '-days', TEN_YEARS,
      '-subj', '/CN=multus-e2e-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  }

  const wanted = sanEntries(sans);
  const current = existsSync(sansFile) ? (await readFile(sansFile, 'utf8')).trim().split(',') : [];
  if (!existsSync(certFile) || !existsSync(keyFile) || !wanted.every((w) => current.includes(w))) {
    const csr = join(certDir, 'apiserver.csr');
    const ext = join(certDir, 'apiserver.ext');
    await openssl(['req', ...EC_KEY, '-keyout', keyFile, '-out', csr, '-subj', '/CN=kube-apiserver']);
    await writeFile(ext, [
      `subjectAltName=${wanted.join(',')}`,
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'));
    await openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey,
      '-set_serial', `0x${randomBytes(12).toString('hex')}`, '-days', TEN_YEARS, '-extfile', ext, '-out', certFile]);
    await writeFile(sansFile, `${wanted.join(',')}\n`);
  }

  const [caPem, certPem, keyPem] = await Promise.all([readFile(caFile, 'utf8'), readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  return { caFile, caPem, certPem, keyPem };
}
