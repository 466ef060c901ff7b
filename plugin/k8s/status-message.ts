// Kubernetes Status bodies as one-line messages (kept apart from the client so that code paths that
// never talk to the API do not load node:https).

/** The message of a Kubernetes Status body, or the body itself. */
export function statusMessage(body: unknown): string {
  if (typeof body === 'object' && body !== null && 'message' in body) return String((body as { message: unknown }).message);
  return typeof body === 'string' ? body.slice(0, 300) : JSON.stringify(body ?? '').slice(0, 300);
}
