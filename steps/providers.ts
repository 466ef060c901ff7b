// Loads a cluster provider by name. Imports are lazy so that a run on one provider does not load (or
// need) the others' code.
import type { ClusterProvider } from '../clusters/provider.ts';

export async function loadProvider(name: 'local' | 'kind'): Promise<ClusterProvider> {
  if (name === 'local') {
    const mod = (await import('../clusters/local/index.ts')) as { localProvider?: ClusterProvider };
    if (!mod.localProvider) throw new Error('clusters/local/index.ts does not export localProvider');
    return mod.localProvider;
  }
  const mod = (await import('../clusters/kind/index.ts')) as { kindProvider?: ClusterProvider };
  if (!mod.kindProvider) throw new Error('clusters/kind/index.ts does not export kindProvider');
  return mod.kindProvider;
}
