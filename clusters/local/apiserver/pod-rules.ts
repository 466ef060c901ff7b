// Pod-specific API rules: the defaults kube-apiserver fills into a pod spec, and which spec fields
// an update may change (the rest of a pod spec is immutable once created).

import { isDeepStrictEqual } from 'node:util';
import type { JsonObject, StatusCause } from './errors.ts';

export function defaultPodSpec(spec: JsonObject): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.serviceAccountName ??= 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  for (const list of ['containers', 'initContainers'] as const) {
    for (const c of (Array.isArray(spec[list]) ? spec[list] : []) as JsonObject[]) {
      const image = String(c.image);
      c.imagePullPolicy ??= /:[^/]+$/.test(image) && !image.endsWith(':latest') ? 'IfNotPresent' : 'Always';
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      c.resources ??= {};
    }
  }
}

const IMMUTABLE_SPEC_MESSAGE = 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,'
  + '`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),'
  + '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** Causes for a pod update that changes more than the mutable spec fields (images, deadline, tolerations). */
export function podSpecUpdateCauses(oldSpec: JsonObject, newSpec: JsonObject): StatusCause[] {
  const allowed = structuredClone(oldSpec);
  for (const list of ['containers', 'initContainers'] as const) {
    const before = allowed[list];
    const after = newSpec[list];
    if (!Array.isArray(before) || !Array.isArray(after) || before.length !== after.length) continue;
    before.forEach((c: JsonObject, i) => {
      const n = after[i] as JsonObject | undefined;
      if (n && n.name === c.name) c.image = n.image;
    });
  }
  for (const f of ['activeDeadlineSeconds', 'tolerations'] as const) {
    if (newSpec[f] === undefined) delete allowed[f];
    else allowed[f] = newSpec[f];
  }
  return isDeepStrictEqual(allowed, newSpec) ? [] : [{ reason: 'FieldValueForbidden', field: 'spec', message: IMMUTABLE_SPEC_MESSAGE }];
}
