/** Calls to the console's own API (console/api.ts); a failure carries the server's sentence and status. */

export class ApiFailure extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function getJson<T>(path: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiFailure(
      0,
      `the console's server did not answer (${(error as Error).message}); is it running?`,
    );
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiFailure(response.status, `unexpected answer (${response.status}): ${text.slice(0, 200)}`);
  }
  if (!response.ok) {
    const error = (body as { error?: string }).error;
    throw new ApiFailure(response.status, error ?? `the server answered ${response.status}`);
  }
  return body as T;
}

/** A JSON body, declared as such: the server refuses any other type (a cross-site form can only send others). */
export function postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return getJson<T>(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
}

/** Prometheus through the console's read-only proxy. */
export async function prometheus<T>(endpoint: string, params: Record<string, string | string[]>): Promise<T> {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, v);
  }
  const body = await getJson<{ status: string; data: T; error?: string }>(
    `/api/prometheus/api/v1/${endpoint}?${search}`,
  ).catch((error: ApiFailure) => {
    // Prometheus' own error body ({status: "error", error}) arrives as a failure with its message.
    throw error;
  });
  if (body.status !== 'success') throw new ApiFailure(400, body.error ?? 'Prometheus refused the query');
  return body.data;
}
