export { toWire, type WireDetail } from '@switchyard/core/protocol';

/** One SSE frame. `data` is JSON on one line, so no line splitting is needed. */
export function sseFrame(event: string, id: number | null, data: unknown): string {
  return `${id === null ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
