// List-then-watch loop over one collection: every listed object is delivered as ADDED, then watch
// events; when the watch ends it lists again (so a restarted API server or an expired
// resourceVersion only costs a re-list), and onResync tells the caller which objects exist.
import type { ApiClient, WatchEvent } from './api-client.ts';

interface Listed<T> {
  metadata?: { resourceVersion?: string };
  items: T[];
}

export interface Informer {
  stop(): void;
}

export function inform<T>(
  api: ApiClient,
  path: string,
  onEvent: (type: WatchEvent<T>['type'], obj: T) => void,
  onResync: (items: T[]) => void,
  onError: (err: Error) => void,
): Informer {
  let stopped = false;
  let current: { stop(): void } | undefined;
  let retry: NodeJS.Timeout | undefined;
  const again = (err?: Error) => {
    if (stopped) return;
    if (err) onError(err);
    retry = setTimeout(cycle, err ? 1000 : 0);
  };
  const cycle = async () => {
    if (stopped) return;
    try {
      const list = await api.get<Listed<T>>(path);
      if (stopped) return;
      onResync(list.items);
      for (const item of list.items) onEvent('ADDED', item);
      current = api.watch<T>(path, list.metadata?.resourceVersion ?? '', (ev) => {
        if (ev.type === 'ERROR') return again(new Error(`watch ${path}: ${JSON.stringify(ev.object)}`));
        if (ev.type !== 'BOOKMARK') onEvent(ev.type, ev.object);
      }, (err) => again(err));
    } catch (err) {
      again(err as Error);
    }
  };
  void cycle();
  return {
    stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      current?.stop();
    },
  };
}
