/**
 * How often the expensive look-ups of a command happened (catalog reads, artifact resolutions):
 * the run is meant to do each once, and a test holds it to that.
 */
export const counters: Record<string, number> = {};

export function count(name: string): void {
  counters[name] = (counters[name] ?? 0) + 1;
}
