// The HTTP API, as the UI uses it. Errors carry the server's stable code and
// its message, which says what was wrong and how to fix it.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// GETs `path`, or POSTs `body` to it as JSON.
export async function api(path, { signal, body } = {}) {
  const request = body === undefined
    ? { signal }
    : { signal, method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  let response;
  try {
    response = await fetch(path, request);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, 'unreachable', 'The Candela server does not answer; is it still running?');
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const { code = 'http_error', message = `${response.status} ${response.statusText}` } = answer.error ?? {};
    throw new ApiError(response.status, code, message);
  }
  return answer;
}

// `sma(period=20)`: named arguments, so that a call reads the same whatever
// the declared order; a bare id when there are no parameters.
export function callText(id, params) {
  const args = Object.entries(params).map(([name, value]) => `${name}=${value}`);
  return args.length ? `${id}(${args.join(',')})` : id;
}

// Which control an error is about, so that it is shown next to it.
export function errorPlace(error) {
  if (error.code === 'unknown_symbol' || error.code === 'ambiguous_symbol') return 'symbol';
  if (error.code === 'timeframe_not_available' || /^timeframe\b/.test(error.message)) return 'timeframe';
  if (error.code?.startsWith('indicator_') || /^indicators\b/.test(error.message)) return 'indicators';
  return 'chart';
}
