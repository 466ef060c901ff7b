// Secrets never go into a diagnostic bundle: Secret data, service-account and bearer tokens, kubeconfig
// credentials. Objects are redacted by structure; every text file of the bundle is then scrubbed of the
// secret values themselves (wherever a log or an annotation repeated them) and of token-shaped strings.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const REDACTED = '<redacted>';

/** Keys whose string values are credentials wherever they appear (kubeconfig users, Secret-like configs). */
const CREDENTIAL_KEY = /^(token|id-token|refresh-token|access-token|client-key-data|client-certificate-data|password|secret|bearerToken|tokenFile|auth)$/i;

/** A copy of a Kubernetes object or config with credentials replaced; `found` collects the values removed. */
export function redactObject(value: unknown, found: Set<string> = new Set(), kind?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => redactObject(v, found));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const isSecret = (kind ?? obj.kind) === 'Secret';
  for (const [k, v] of Object.entries(obj)) {
    if (isSecret && (k === 'data' || k === 'stringData') && v && typeof v === 'object') {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([dk, dv]) => {
        if (typeof dv === 'string') {
          found.add(dv);
          if (k === 'data') found.add(Buffer.from(dv, 'base64').toString('utf8'));
        }
        return [dk, REDACTED];
      }));
    } else if (k === 'items' && Array.isArray(v)) {
      // A List: each item carries its own kind, or the list's kind says it (SecretList).
      const itemKind = typeof obj.kind === 'string' && obj.kind.endsWith('List') ? obj.kind.slice(0, -4) : undefined;
      out[k] = v.map((item) => redactObject(item, found, itemKind));
    } else if (CREDENTIAL_KEY.test(k) && typeof v === 'string' && v !== '') {
      found.add(v);
      out[k] = REDACTED;
    } else {
      out[k] = redactObject(v, found);
    }
  }
  // kubectl's last-applied annotation repeats a Secret's data verbatim.
  const annotations = (out.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
  if (isSecret && annotations?.['kubectl.kubernetes.io/last-applied-configuration']) annotations['kubectl.kubernetes.io/last-applied-configuration'] = REDACTED;
  return out;
}

/** Token-shaped strings: JWTs (service-account tokens) and Authorization headers. */
const TOKEN_PATTERNS: RegExp[] = [
  /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  /((?:authorization|Authorization|AUTHORIZATION)["']?\s*[:=]\s*["']?Bearer\s+)[^\s"',]+/g,
  /(--token[= ])\S+/g,
];

export function redactText(text: string, secrets: Iterable<string>): string {
  let out = text;
  // Longest first, so a value that contains another is removed whole; very short values would hit innocent text.
  for (const s of [...secrets].filter((x) => x.length >= 6).sort((a, b) => b.length - a.length)) out = out.split(s).join(REDACTED);
  for (const re of TOKEN_PATTERNS) out = out.replace(re, (_m, prefix?: string) => `${typeof prefix === 'string' ? prefix : ''}${REDACTED}`);
  return out;
}

/** Scrubs every file under dir in place. */
export function redactTree(dir: string, secrets: Iterable<string>): void {
  const list = [...secrets];
  for (const entry of readdirSync(dir)) {
    const file = path.join(dir, entry);
    if (statSync(file).isDirectory()) {
      redactTree(file, list);
      continue;
    }
    const text = readFileSync(file, 'utf8');
    const clean = redactText(text, list);
    if (clean !== text) writeFileSync(file, clean);
  }
}
