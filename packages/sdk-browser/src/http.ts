import { SwitchyardError } from './errors';

/**
 * One JSON request to the server with the key in `X-API-Key`; any failure becomes a
 * {@link SwitchyardError}. `GET` without a body, `POST` with one.
 */
export async function requestJson(url: string, key: string, body?: unknown): Promise<any> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? { 'x-api-key': key } : { 'x-api-key': key, 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch (e) {
    throw new SwitchyardError('NETWORK_ERROR', `${url}: ${(e as Error).message}`);
  }
  if (!res.ok) {
    throw new SwitchyardError(
      res.status === 401 || res.status === 403 ? 'UNAUTHORIZED' : 'HTTP_ERROR',
      `${url} answered ${res.status}`,
      res.status,
    );
  }
  try {
    return await res.json();
  } catch {
    throw new SwitchyardError('INVALID_RESPONSE', `${url}: not JSON`);
  }
}
