// Request bodies in Kubernetes' protobuf encoding. kubectl's typed clients (`kubectl create
// namespace|configmap|serviceaccount|secret|service`, typed deletes) send `application/vnd.kubernetes.protobuf`; we decode those
// few types into their JSON form. Responses are always JSON (clients accept it).

import { ApiError, type JsonObject } from './errors.ts';

type FieldType = 'string' | 'int' | 'bool' | 'bytes' | 'time' | 'microTime' | 'intOrString' | 'stringMap' | 'bytesMap' | 'strings' | Schema | [Schema];
interface Schema { [field: number]: [name: string, type: FieldType] }

const TIME: FieldType = 'time';
const OWNER_REFERENCE: Schema = { 1: ['kind', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'], 5: ['apiVersion', 'string'], 6: ['controller', 'bool'], 7: ['blockOwnerDeletion', 'bool'] };
const OBJECT_META: Schema = {
  1: ['name', 'string'], 2: ['generateName', 'string'], 3: ['namespace', 'string'], 5: ['uid', 'string'],
  6: ['resourceVersion', 'string'], 7: ['generation', 'int'], 8: ['creationTimestamp', TIME], 9: ['deletionTimestamp', TIME],
  10: ['deletionGracePeriodSeconds', 'int'], 11: ['labels', 'stringMap'], 12: ['annotations', 'stringMap'],
  13: ['ownerReferences', [OWNER_REFERENCE]], 14: ['finalizers', 'strings'],
};
const OBJECT_REFERENCE: Schema = { 1: ['kind', 'string'], 2: ['namespace', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'], 5: ['apiVersion', 'string'], 6: ['resourceVersion', 'string'], 7: ['fieldPath', 'string'] };

const SCHEMAS: Record<string, Schema> = {
  Namespace: { 1: ['metadata', OBJECT_META], 2: ['spec', { 1: ['finalizers', 'strings'] }], 3: ['status', { 1: ['phase', 'string'] }] },
  ConfigMap: { 1: ['metadata', OBJECT_META], 2: ['data', 'stringMap'], 3: ['binaryData', 'bytesMap'], 4: ['immutable', 'bool'] },
  ServiceAccount: {
    1: ['metadata', OBJECT_META], 2: ['secrets', [OBJECT_REFERENCE]], 3: ['imagePullSecrets', [{ 1: ['name', 'string'] }]],
    4: ['automountServiceAccountToken', 'bool'],
  },
  Secret: { 1: ['metadata', OBJECT_META], 2: ['data', 'bytesMap'], 3: ['type', 'string'], 4: ['stringData', 'stringMap'], 5: ['immutable', 'bool'] },
  Service: {
    1: ['metadata', OBJECT_META],
    2: ['spec', {
      1: ['ports', [{ 1: ['name', 'string'], 2: ['protocol', 'string'], 3: ['port', 'int'], 4: ['targetPort', 'intOrString'], 5: ['nodePort', 'int'] }]],
      2: ['selector', 'stringMap'], 3: ['clusterIP', 'string'], 4: ['type', 'string'], 5: ['externalIPs', 'strings'],
      7: ['sessionAffinity', 'string'], 10: ['externalName', 'string'], 18: ['clusterIPs', 'strings'],
    }],
  },
  // Pods only as far as their metadata: enough for upstream Go Multus, which writes the
  // network-status annotation with a protobuf UpdateStatus; the server keeps spec and status.
  Pod: { 1: ['metadata', OBJECT_META] },
  Event: {
    1: ['metadata', OBJECT_META], 2: ['involvedObject', OBJECT_REFERENCE], 3: ['reason', 'string'], 4: ['message', 'string'],
    5: ['source', { 1: ['component', 'string'], 2: ['host', 'string'] }], 6: ['firstTimestamp', TIME], 7: ['lastTimestamp', TIME],
    8: ['count', 'int'], 9: ['type', 'string'], 10: ['eventTime', 'microTime'], 12: ['action', 'string'],
    14: ['reportingComponent', 'string'], 15: ['reportingInstance', 'string'],
  },
  Binding: { 1: ['metadata', OBJECT_META], 2: ['target', OBJECT_REFERENCE] },
  DeleteOptions: {
    1: ['gracePeriodSeconds', 'int'], 2: ['preconditions', { 1: ['uid', 'string'], 2: ['resourceVersion', 'string'] }],
    4: ['propagationPolicy', 'string'], 5: ['dryRun', 'strings'],
  },
};
const TYPE_META: Schema = { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] };
const UNKNOWN: Schema = { 1: ['typeMeta', TYPE_META], 2: ['raw', 'bytes'], 3: ['contentEncoding', 'string'], 4: ['contentType', 'string'] };

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

function unsupported(why: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `protobuf request body not supported by this API server: ${why}; send application/json`);
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  done(): boolean { return this.pos >= this.buf.length; }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw unsupported('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  bytes(): Buffer {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw unsupported('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw unsupported(`wire type ${wire}`);
  }
}

function decodeMapEntry(buf: Buffer, valueAsBytes: boolean): [string, string] {
  const r = new Reader(buf);
  let key = '';
  let value = '';
  while (!r.done()) {
    const tag = Number(r.varint());
    if (tag >>> 3 === 1 && (tag & 7) === 2) key = r.bytes().toString('utf8');
    else if (tag >>> 3 === 2 && (tag & 7) === 2) {
      const v = r.bytes();
      value = valueAsBytes ? v.toString('base64') : v.toString('utf8');
    } else r.skip(tag & 7);
  }
  return [key, value];
}

/** meta/v1 Time (RFC 3339 seconds) or MicroTime (microseconds): {seconds = 1, nanos = 2}. */
function decodeTime(buf: Buffer, micro: boolean): string {
  const r = new Reader(buf);
  let seconds = 0n;
  let nanos = 0n;
  while (!r.done()) {
    const tag = Number(r.varint());
    if (tag >>> 3 === 1 && (tag & 7) === 0) seconds = r.varint();
    else if (tag >>> 3 === 2 && (tag & 7) === 0) nanos = r.varint();
    else r.skip(tag & 7);
  }
  const iso = new Date(Number(seconds) * 1000).toISOString();
  return micro ? iso.replace(/\.\d{3}Z$/, `.${String(nanos / 1000n).padStart(6, '0')}Z`) : iso.replace(/\.\d{3}Z$/, 'Z');
}

function decodeMessage(buf: Buffer, schema: Schema): JsonObject {
  const out: JsonObject = {};
  const r = new Reader(buf);
  while (!r.done()) {
    const tag = Number(r.varint());
    const field = schema[tag >>> 3];
    const wire = tag & 7;
    if (!field) { r.skip(wire); continue; }
    const [name, type] = field;
    // Zero values are left out, as the JSON form of these fields omits them (omitempty).
    if (type === 'int') {
      const n = Number(BigInt.asIntN(64, r.varint()));
      if (n !== 0) out[name] = n;
      continue;
    }
    if (type === 'bool') {
      if (r.varint() !== 0n) out[name] = true;
      continue;
    }
    const data = r.bytes();
    if (type === 'string') {
      if (data.length) out[name] = data.toString('utf8');
    }
    else if (type === 'bytes') out[name] = Buffer.from(data);
    else if (type === 'time' || type === 'microTime') out[name] = decodeTime(data, type === 'microTime');
    else if (type === 'intOrString') {
      const v = decodeMessage(data, { 1: ['type', 'int'], 2: ['intVal', 'int'], 3: ['strVal', 'string'] });
      out[name] = v.type === 1 ? String(v.strVal ?? '') : Number(v.intVal ?? 0);
    }
    else if (type === 'strings') out[name] = [...((out[name] as string[] | undefined) ?? []), data.toString('utf8')];
    else if (type === 'stringMap' || type === 'bytesMap') {
      const [k, v] = decodeMapEntry(data, type === 'bytesMap');
      out[name] = { ...((out[name] as JsonObject | undefined) ?? {}), [k]: v };
    } else if (Array.isArray(type)) out[name] = [...((out[name] as JsonObject[] | undefined) ?? []), decodeMessage(data, type[0])];
    else out[name] = decodeMessage(data, type);
  }
  return out;
}

export interface DecodedObject {
  object: JsonObject;
  /** Only metadata was decoded (Pod): the server keeps everything else as stored. */
  metadataOnly: boolean;
}

/** The JSON form of a protobuf-encoded object of one of the kinds kubectl and Go Multus send. */
export function decodeProtobufObject(body: Buffer): DecodedObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw unsupported('missing the k8s protobuf envelope');
  const unknown = decodeMessage(body.subarray(4), UNKNOWN);
  const typeMeta = (unknown.typeMeta ?? {}) as JsonObject;
  const kind = String(typeMeta.kind ?? '');
  const schema = SCHEMAS[kind];
  if (!schema) throw unsupported(`kind ${JSON.stringify(kind)}`);
  const obj = decodeMessage((unknown.raw as Buffer | undefined) ?? Buffer.alloc(0), schema);
  return { object: { apiVersion: typeMeta.apiVersion, kind, ...obj }, metadataOnly: kind === 'Pod' };
}
