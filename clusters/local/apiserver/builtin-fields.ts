// Unknown-field detection for the built-in kinds, at the levels whose fields are fixed and small:
// the top level of each kind and ObjectMeta. (Deeper levels of pod specs etc. are not checked.)

import type { JsonObject } from './errors.ts';

const COMMON = ['apiVersion', 'kind', 'metadata'];
const TOP_LEVEL: Record<string, string[]> = {
  Namespace: ['spec', 'status'],
  Pod: ['spec', 'status'],
  Node: ['spec', 'status'],
  Service: ['spec', 'status'],
  ConfigMap: ['data', 'binaryData', 'immutable'],
  Secret: ['data', 'stringData', 'type', 'immutable'],
  ServiceAccount: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
  Event: ['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime',
    'series', 'action', 'related', 'reportingComponent', 'reportingInstance'],
  CustomResourceDefinition: ['spec', 'status'],
};
const OBJECT_META = ['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields'];

/** Remove fields a built-in kind does not have (top level and metadata); returns their paths. */
export function pruneUnknownBuiltinFields(kind: string, o: JsonObject): string[] {
  const known = TOP_LEVEL[kind];
  if (!known) return [];
  const unknown: string[] = [];
  for (const k of Object.keys(o)) {
    if (!COMMON.includes(k) && !known.includes(k)) {
      unknown.push(k);
      delete o[k];
    }
  }
  const meta = o.metadata;
  if (meta !== null && typeof meta === 'object' && !Array.isArray(meta)) {
    for (const k of Object.keys(meta)) {
      if (!OBJECT_META.includes(k)) {
        unknown.push(`metadata.${k}`);
        delete (meta as JsonObject)[k];
      }
    }
  }
  return unknown;
}
