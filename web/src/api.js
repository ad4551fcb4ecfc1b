// The HTTP API, as the UI uses it. Errors carry the server's message, which
// says what was wrong and how to fix it.

export async function api(path) {
  const response = await fetch(path);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = body.error ? body.error.message : `${response.status} ${response.statusText}`;
    throw new Error(message);
  }
  return body;
}

// `sma(period=20)`: named arguments, so that a call reads the same whatever
// the declared order; a bare id when there are no parameters.
export function callText(id, params) {
  const args = Object.entries(params).map(([name, value]) => `${name}=${value}`);
  return args.length ? `${id}(${args.join(',')})` : id;
}
