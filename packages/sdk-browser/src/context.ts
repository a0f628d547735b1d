import type { Context } from './types';

/** A context as one string, independent of attribute order (the warm-start cache key). */
export function contextId(context: Context): string {
  return JSON.stringify(
    Object.keys(context)
      .sort()
      .map((k) => [k, context[k]]),
  );
}

/** A context as base64url JSON, the form the stream's `?context=` takes. */
export function encodeContext(context: Context): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(JSON.stringify(context))) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
