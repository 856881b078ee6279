// PostgREST's error body ({code, details, hint, message}) and its SQLSTATE → HTTP status mapping
// (PostgREST Error.hs mapSQLtoHTTP), so clients see the same statuses as against a real project.

export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string | null = null,
    readonly hint: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body() {
    return { code: this.code, details: this.details, hint: this.hint, message: this.message };
  }
}

/** A Postgres error as node-postgres reports it. */
export interface PgError {
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

export function isPgError(err: unknown): err is PgError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && 'severity' in err;
}

/** Longest matching prefix wins; anything unlisted is a client error (400). */
const STATUS_BY_SQLSTATE: Array<[prefix: string, status: number]> = [
  ['08', 503],
  ['09', 500],
  ['0L', 403],
  ['0P', 403],
  ['23503', 409],
  ['23505', 409],
  ['25006', 405],
  ['25', 500],
  ['28', 403],
  ['2D', 500],
  ['38', 500],
  ['39', 500],
  ['3B', 500],
  ['40', 500],
  ['53400', 500],
  ['53', 503],
  ['54', 500],
  ['55', 500],
  ['57P01', 503],
  ['57', 500],
  ['58', 500],
  ['F0', 500],
  ['HV', 500],
  ['XX', 500],
  ['P0001', 400],
  ['P0', 500],
  ['42883', 404],
  ['42P01', 404],
  ['42P17', 500],
];

export function statusForPgError(err: PgError, isAnon: boolean): number {
  const { code, message } = err;
  // Insufficient privilege or an RLS violation: "log in" for anon, "forbidden" for a signed-in role.
  if (code === '42501') return isAnon ? 401 : 403;
  if (code === '22023') return /^role ".*" does not exist$/.test(message) ? 401 : 400;
  if (code === '21000') return message.includes('requires a WHERE clause') ? 400 : 500;
  // RAISE ... USING ERRCODE = 'PT429' chooses the HTTP status itself.
  const custom = /^PT(\d{3})$/.exec(code);
  if (custom) return Number(custom[1]);
  let best: [string, number] | undefined;
  for (const entry of STATUS_BY_SQLSTATE) {
    if (code.startsWith(entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
  }
  return best ? best[1] : 400;
}

export function fromPgError(err: PgError, isAnon: boolean): RestError {
  const status = statusForPgError(err, isAnon);
  const headers: Record<string, string> = status === 401 ? { 'www-authenticate': 'Bearer' } : {};
  return new RestError(status, err.code, err.message, err.detail ?? null, err.hint ?? null, headers);
}

export function parseError(what: string, input: string, details: string): RestError {
  return new RestError(400, 'PGRST100', `"failed to parse ${what} (${input})" (line 1, column 1)`, details);
}
