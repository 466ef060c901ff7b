// Which resources are served right now: the built-in types plus one entry per established CRD.

import { BUILTIN_TYPES, type ResourceType } from './resource-types.ts';

/** Storage key of a resource: one bucket per group+plural, whatever the version asked for. */
export function resourceKey(t: Pick<ResourceType, 'group' | 'plural'>): string {
  return `${t.group}/${t.plural}`;
}

export class ResourceRegistry {
  private readonly customTypes = new Map<string, ResourceType>(); // by CRD name

  all(): ResourceType[] {
    return [...BUILTIN_TYPES, ...this.customTypes.values()];
  }

  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.all().find((t) => t.group === group && t.plural === plural && t.versions.includes(version));
  }

  /** The type registered for (group, plural) by anything other than the named CRD. */
  owner(group: string, plural: string, exceptCrd?: string): string | undefined {
    if (BUILTIN_TYPES.some((t) => t.group === group && t.plural === plural)) return 'a built-in resource';
    for (const [crd, t] of this.customTypes) if (crd !== exceptCrd && t.group === group && t.plural === plural) return `CRD ${crd}`;
    return undefined;
  }

  custom(crdName: string): ResourceType | undefined {
    return this.customTypes.get(crdName);
  }

  setCustom(crdName: string, t: ResourceType): void {
    this.customTypes.set(crdName, t);
  }

  removeCustom(crdName: string): ResourceType | undefined {
    const t = this.customTypes.get(crdName);
    this.customTypes.delete(crdName);
    return t;
  }

  /** Served API groups (excluding core) with their versions, preferred version first. */
  groups(): { name: string; versions: string[] }[] {
    const out = new Map<string, string[]>();
    for (const t of this.all()) {
      if (!t.group) continue;
      const vs = out.get(t.group) ?? [];
      for (const v of t.versions) if (!vs.includes(v)) vs.push(v);
      out.set(t.group, vs);
    }
    return [...out].map(([name, versions]) => ({ name, versions }));
  }
}
