// The subset of YAML that kubeconfig files use (block mappings and sequences, plain and quoted
// scalars, empty flow collections, comments). The plugin cannot afford a YAML library's import cost.

export type YamlValue = string | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string;
  no: number;
}

export class YamlError extends Error {}

function stripComment(s: string): string {
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || s[i - 1] === ' ' || s[i - 1] === '\t')) return s.slice(0, i).trimEnd();
  }
  return s.trimEnd();
}

function scalar(raw: string, no: number): YamlValue {
  const s = raw.trim();
  if (s === '' || s === '~' || s === 'null') return null;
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (s === '{}') return {};
  if (s === '[]') return [];
  if (s.startsWith('"')) {
    try {
      return JSON.parse(s) as string;
    } catch {
      throw new YamlError(`line ${no}: bad double-quoted string`);
    }
  }
  if (s.startsWith("'")) {
    if (!s.endsWith("'") || s.length < 2) throw new YamlError(`line ${no}: bad single-quoted string`);
    return s.slice(1, -1).replace(/''/g, "'");
  }
  if (s.startsWith('{') || s.startsWith('[') || s.startsWith('|') || s.startsWith('>')) {
    throw new YamlError(`line ${no}: flow collections and block scalars are not supported`);
  }
  return s;
}

/** Split "key: value" at the first ": " (or trailing ":") outside quotes. */
function splitKey(text: string): [string, string] | undefined {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ':' && (i === text.length - 1 || text[i + 1] === ' ')) {
      const key = scalar(text.slice(0, i), 0);
      return [String(key), text.slice(i + 1).trim()];
    }
  }
  return undefined;
}

class Parser {
  private pos = 0;
  constructor(private readonly lines: Line[]) {}

  parse(): YamlValue {
    if (!this.lines.length) return null;
    const v = this.block(this.lines[0]?.indent ?? 0);
    if (this.pos < this.lines.length) throw new YamlError(`line ${this.lines[this.pos]?.no}: unexpected indentation`);
    return v;
  }

  private block(indent: number): YamlValue {
    const first = this.lines[this.pos];
    if (!first) return null;
    if (first.text === '-' || first.text.startsWith('- ')) return this.sequence(indent);
    return this.mapping(indent);
  }

  private sequence(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    for (let line = this.lines[this.pos]; line && line.indent === indent && (line.text === '-' || line.text.startsWith('- ')); line = this.lines[this.pos]) {
      const rest = line.text.slice(1).trimStart();
      if (!rest) {
        this.pos++;
        const next = this.lines[this.pos];
        out.push(next && next.indent > indent ? this.block(next.indent) : null);
        continue;
      }
      // "- key: v" starts a mapping whose keys sit at the column after "- ".
      const col = indent + (line.text.length - rest.length);
      if (splitKey(rest)) {
        this.lines[this.pos] = { indent: col, text: rest, no: line.no };
        out.push(this.mapping(col));
      } else {
        this.pos++;
        out.push(scalar(rest, line.no));
      }
    }
    return out;
  }

  private mapping(indent: number): { [key: string]: YamlValue } {
    const out: { [key: string]: YamlValue } = {};
    for (let line = this.lines[this.pos]; line && line.indent === indent; line = this.lines[this.pos]) {
      if (line.text.startsWith('- ')) break;
      const kv = splitKey(line.text);
      if (!kv) throw new YamlError(`line ${line.no}: expected "key: value"`);
      this.pos++;
      const [key, value] = kv;
      if (value) {
        out[key] = scalar(value, line.no);
        continue;
      }
      const next = this.lines[this.pos];
      if (next && (next.indent > indent || (next.indent === indent && (next.text === '-' || next.text.startsWith('- '))))) {
        out[key] = this.block(next.indent);
      } else out[key] = null;
    }
    return out;
  }
}

export function parseKubeconfigYaml(text: string): YamlValue {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return JSON.parse(trimmed) as YamlValue;
  const lines: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.includes('\t') && /^\s*\t/.test(raw)) throw new YamlError(`line ${i + 1}: tabs are not allowed for indentation`);
    const body = stripComment(raw);
    if (!body.trim() || body.trim() === '---') return;
    const indent = body.length - body.trimStart().length;
    lines.push({ indent, text: body.trim(), no: i + 1 });
  });
  return new Parser(lines).parse();
}
