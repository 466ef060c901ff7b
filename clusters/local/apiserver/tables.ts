// Server-side printing: `kubectl get` asks for meta.k8s.io/v1 Table and prints the server's columns.
// Column sets follow kube-apiserver's printers for the types we serve.

import type { JsonObject } from './errors.ts';
import type { PrinterColumn, ResourceType } from './resource-types.ts';

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number | boolean | null;
type Printer = { columns: Column[]; row: (o: JsonObject) => Cell[] };

function col(name: string, type = 'string', priority = 0, format = ''): Column {
  return { name, type, format, description: name, priority };
}

function obj(v: unknown): JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : {};
}

function arr(v: unknown): JsonObject[] {
  return Array.isArray(v) ? v.map(obj) : [];
}

/** kubectl's human duration ("45s", "3m20s", "5h", "2d3h"). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

function age(ts: unknown): string {
  return typeof ts === 'string' && ts ? humanDuration(Date.now() - Date.parse(ts)) : '<unknown>';
}

function name(o: JsonObject): string {
  return String(obj(o.metadata).name ?? '');
}

function created(o: JsonObject): string {
  return age(obj(o.metadata).creationTimestamp);
}

function podStatus(o: JsonObject): string {
  const status = obj(o.status);
  let reason = String(status.reason ?? status.phase ?? 'Unknown');
  for (const cs of arr(status.containerStatuses)) {
    const state = obj(cs.state);
    const waiting = obj(state.waiting).reason;
    const terminated = obj(state.terminated).reason;
    if (typeof waiting === 'string' && waiting) reason = waiting;
    else if (typeof terminated === 'string' && terminated) reason = terminated;
  }
  if (obj(o.metadata).deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

function nodeStatus(o: JsonObject): string {
  const ready = arr(obj(o.status).conditions).find((c) => c.type === 'Ready');
  const s = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  return obj(o.spec).unschedulable ? `${s},SchedulingDisabled` : s;
}

function nodeRoles(o: JsonObject): string {
  const roles = Object.keys(obj(obj(o.metadata).labels))
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length));
  return roles.length ? roles.sort().join(',') : '<none>';
}

function nodeAddress(o: JsonObject, type: string): string {
  return String(arr(obj(o.status).addresses).find((a) => a.type === type)?.address ?? '<none>');
}

const NAME = col('Name', 'string', 0, 'name');
const AGE = col('Age');

const PRINTERS: Record<string, Printer> = {
  '/pods': {
    columns: [NAME, col('Ready'), col('Status'), col('Restarts'), AGE, col('IP', 'string', 1), col('Node', 'string', 1),
      col('Nominated Node', 'string', 1), col('Readiness Gates', 'string', 1)],
    row: (o) => {
      const spec = obj(o.spec);
      const status = obj(o.status);
      const statuses = arr(status.containerStatuses);
      const restarts = statuses.reduce((n, c) => n + Number(c.restartCount ?? 0), 0);
      return [name(o), `${statuses.filter((c) => c.ready === true).length}/${arr(spec.containers).length}`, podStatus(o),
        String(restarts), created(o), String(status.podIP ?? '<none>'), String(spec.nodeName ?? '<none>'),
        String(status.nominatedNodeName ?? '<none>'), '<none>'];
    },
  },
  '/namespaces': {
    columns: [NAME, col('Status'), AGE],
    row: (o) => [name(o), String(obj(o.status).phase ?? ''), created(o)],
  },
  '/nodes': {
    columns: [NAME, col('Status'), col('Roles'), AGE, col('Version'), col('Internal-IP', 'string', 1), col('External-IP', 'string', 1),
      col('OS-Image', 'string', 1), col('Kernel-Version', 'string', 1), col('Container-Runtime', 'string', 1)],
    row: (o) => {
      const info = obj(obj(o.status).nodeInfo);
      return [name(o), nodeStatus(o), nodeRoles(o), created(o), String(info.kubeletVersion ?? ''), nodeAddress(o, 'InternalIP'),
        nodeAddress(o, 'ExternalIP'), String(info.osImage ?? '<unknown>'), String(info.kernelVersion ?? '<unknown>'),
        String(info.containerRuntimeVersion ?? '<unknown>')];
    },
  },
  '/events': {
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message'), col('Subobject', 'string', 1),
      col('Source', 'string', 1), col('First Seen', 'string', 1), col('Count', 'string', 1), { ...NAME, priority: 1 }],
    row: (o) => {
      const inv = obj(o.involvedObject);
      const source = obj(o.source);
      return [age(o.lastTimestamp ?? o.eventTime ?? obj(o.metadata).creationTimestamp), String(o.type ?? ''), String(o.reason ?? ''),
        `${String(inv.kind ?? '').toLowerCase()}/${String(inv.name ?? '')}`, String(o.message ?? ''), String(inv.fieldPath ?? ''),
        [source.component, source.host].filter(Boolean).join(', '), age(o.firstTimestamp ?? o.eventTime), String(o.count ?? 1), name(o)];
    },
  },
  '/serviceaccounts': {
    columns: [NAME, col('Secrets'), AGE],
    row: (o) => [name(o), String(arr(o.secrets).length), created(o)],
  },
  '/configmaps': {
    columns: [NAME, col('Data'), AGE],
    row: (o) => [name(o), String(Object.keys(obj(o.data)).length + Object.keys(obj(o.binaryData)).length), created(o)],
  },
  '/secrets': {
    columns: [NAME, col('Type'), col('Data'), AGE],
    row: (o) => [name(o), String(o.type ?? 'Opaque'), String(Object.keys(obj(o.data)).length), created(o)],
  },
  '/services': {
    columns: [NAME, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), AGE, col('Selector', 'string', 1)],
    row: (o) => {
      const spec = obj(o.spec);
      const ports = arr(spec.ports).map((p) => `${String(p.port)}${p.nodePort ? `:${String(p.nodePort)}` : ''}/${String(p.protocol ?? 'TCP')}`);
      const selector = Object.entries(obj(spec.selector)).map(([k, v]) => `${k}=${String(v)}`);
      return [name(o), String(spec.type ?? 'ClusterIP'), String(spec.clusterIP ?? '<none>'), '<none>', ports.join(',') || '<none>', created(o), selector.join(',') || '<none>'];
    },
  },
  'apiextensions.k8s.io/customresourcedefinitions': {
    columns: [NAME, col('Created At', 'date')],
    row: (o) => [name(o), String(obj(o.metadata).creationTimestamp ?? '')],
  },
};

/** Value at a simple JSONPath of printer columns (`.spec.x`, `.status.list[0].y`). */
function jsonPathValue(o: JsonObject, path: string): unknown {
  let cur: unknown = o;
  for (const part of path.replace(/^\{?\./, '').replace(/\}$/, '').split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) return undefined;
    if (m[1]) cur = obj(cur)[m[1]];
    for (const idx of m[2]!.match(/\d+/g) ?? []) cur = Array.isArray(cur) ? cur[Number(idx)] : undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

function customPrinter(columns: PrinterColumn[]): Printer {
  if (columns.length === 0) return { columns: [NAME, AGE], row: (o) => [name(o), created(o)] };
  return {
    columns: [NAME, ...columns.map((c) => col(c.name, c.type, c.priority ?? 0, c.format ?? ''))],
    row: (o) => [name(o), ...columns.map((c): Cell => {
      const v = jsonPathValue(o, c.jsonPath);
      if (v === undefined || v === null) return null;
      if (c.type === 'date') return age(v);
      if (typeof v === 'object') return JSON.stringify(v);
      return v as Cell;
    })],
  };
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function toTable(t: ResourceType, objects: JsonObject[], include: IncludeObject): JsonObject {
  const printer = t.custom ? customPrinter(t.printerColumns) : PRINTERS[`${t.group}/${t.plural}`] ?? customPrinter([]);
  const rows = objects.map((o) => {
    const row: JsonObject = { cells: printer.row(o) };
    if (include === 'Object') row.object = o;
    else if (include === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
    return row;
  });
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1',
    metadata: {},
    columnDefinitions: printer.columns, rows,
  };
}
