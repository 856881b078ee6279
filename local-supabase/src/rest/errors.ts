// Every error /rest/v1 answers, as data: PostgREST's body ({code, details, hint, message}), its
// status and headers. The request and schema-cache errors are named factories in one table, with
// PostgREST's codes and words (PostgREST src/library/PostgREST/Error.hs, ApiRequestError,
// SchemaCacheError and JwtError); database errors map through the SQLSTATE table of mapSQLtoHTTP
// in the same file.

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

/** Error.hs invalidTokenHeader: the description is the message as a quoted string. */
function invalidToken(code: string, message: string): RestError {
  return new RestError(401, code, message, null, null, {
    'www-authenticate': `Bearer error="invalid_token", error_description=${JSON.stringify(message)}`,
  });
}

export const ERRORS = {
  // PGRST1xx: the request itself.
  /** QueryParamError; `details` says what was expected. */
  parse: (what: string, input: string, details: string) =>
    new RestError(400, 'PGRST100', `"failed to parse ${what} (${input})" (line 1, column 1)`, details),
  /** A feature of PostgREST's grammar this subset does not serve (QueryParamError too). */
  unsupported: (message: string) => new RestError(400, 'PGRST100', message),
  invalidBody: (message = 'Empty or invalid json') => new RestError(400, 'PGRST102', message),
  rangeNotSatisfiable: (offset: number, total: number) =>
    new RestError(
      416,
      'PGRST103',
      'Requested range not satisfiable',
      `An offset of ${offset} was requested, but there are only ${total} rows.`,
      null,
      // Response.hs: a 416 still says how many rows there are.
      { 'content-range': `*/${total}` },
    ),
  /** ApiRequest.hs getRanges: the Range header's bounds are reversed, or the limit is negative. */
  invalidRange: (reversedHeader: boolean) =>
    new RestError(
      416,
      'PGRST103',
      'Requested range not satisfiable',
      reversedHeader
        ? 'The lower boundary must be lower than or equal to the upper boundary in the Range header.'
        : 'Limit should be greater than or equal to zero.',
    ),
  unacceptableSchema: (schema: string, exposed: string) =>
    new RestError(406, 'PGRST106', `Invalid schema: ${schema}`, null, `Only the following schemas are exposed: ${exposed}`),
  mediaType: (accept: string) => new RestError(406, 'PGRST107', `None of these media types are available: ${accept}`),
  singularity: (rows: number) =>
    new RestError(406, 'PGRST116', 'Cannot coerce the result to a single JSON object', `The result contains ${rows} rows`),
  unsupportedMethod: (method: string) => new RestError(405, 'PGRST117', `Unsupported HTTP method: ${method}`),
  raiseNotParsed: (details: string, hint: string) =>
    new RestError(500, 'PGRST121', 'Could not parse JSON in the "RAISE SQLSTATE \'PGRST\'" error', details, hint),
  invalidPath: () => new RestError(404, 'PGRST125', 'Invalid path specified in request URL'),

  // PGRST2xx: names the schema cache does not hold.
  /** `keys` sorted, as PostgREST lists them; `viaPost`: a JSON body could also have been one json argument. */
  functionNotFound: (schema: string, name: string, keys: string[], viaPost: boolean) =>
    new RestError(
      404,
      'PGRST202',
      `Could not find the function ${schema}.${name}${keys.length ? `(${keys.join(', ')})` : ' without parameters'} in the schema cache`,
      `Searched for the function ${schema}.${name}${keys.length ? ` with parameter${keys.length > 1 ? 's' : ''} ${keys.join(', ')}` : ' without parameters'}` +
        `${viaPost ? ' or with a single unnamed json/jsonb parameter' : ''}, but no matches were found in the schema cache.`,
    ),
  ambiguousFunction: (candidates: string[]) =>
    new RestError(
      300,
      'PGRST203',
      `Could not choose the best candidate function between: ${candidates.join(', ')}`,
      null,
      'Try renaming the parameters or the function itself in the database so function overloading can be resolved',
    ),
  columnNotFound: (relation: string, column: string) =>
    new RestError(400, 'PGRST204', `Could not find the '${column}' column of '${relation}' in the schema cache`),
  tableNotFound: (schema: string, name: string) =>
    new RestError(404, 'PGRST205', `Could not find the table '${schema}.${name}' in the schema cache`),

  // PGRST3xx: the JWT.
  jwtDecode: (message: string) => invalidToken('PGRST301', message),
  jwtClaims: (message: string) => invalidToken('PGRST303', message),

  // Raised by Postgres for a read naming an unknown column: PostgREST leaves that check to it.
  undefinedColumn: (relation: string, column: string) => new RestError(400, '42703', `column ${relation}.${column} does not exist`),
  // Supabase's gateway refuses an oversized body before PostgREST sees it.
  bodyTooLarge: (limit: number) => new RestError(413, 'request_too_large', `Request body larger than ${limit} bytes`),
};

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

type StatusRule = [sqlstate: string, status: number | ((message: string) => number)];

/**
 * mapSQLtoHTTP's table in its order: the first rule whose SQLSTATE is a prefix of the error's wins
 * (a class like '08' or one code like '23503'); anything unlisted is a client error (400).
 */
const SQLSTATE_STATUS: StatusRule[] = [
  ['08', 503],
  ['09', 500],
  ['0L', 403],
  ['0P', 403],
  ['23503', 409],
  ['23505', 409],
  ['25006', 405],
  // pg-safeupdate's refusal is the client's fault; any other cardinality violation is the server's.
  ['21000', (m) => (m.endsWith('requires a WHERE clause') ? 400 : 500)],
  // A token naming a role that does not exist.
  ['22023', (m) => (m.startsWith('role') && m.endsWith('does not exist') ? 401 : 400)],
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
  ['P0001', 400],
  ['P0', 500],
  ['XX', 500],
  ['42883', (m) => (m.startsWith('function xmlagg(') ? 406 : 404)],
  ['42P01', 404],
  ['42P17', 500],
];

/** The status for a database error; `authed` is whether the request ran as a role other than anon. */
export function statusForPgError(err: PgError, authed: boolean): number {
  const { code, message } = err;
  // Insufficient privilege or an RLS violation: "log in" for anon, "forbidden" for a signed-in role.
  if (code === '42501') return authed ? 403 : 401;
  // RAISE ... USING ERRCODE = 'PT429' chooses the HTTP status itself; a PT code naming no status is 500.
  if (code.startsWith('PT')) return /^PT[1-9]\d\d$/.test(code) ? Number(code.slice(2)) : 500;
  const rule = SQLSTATE_STATUS.find(([sqlstate]) => code.startsWith(sqlstate));
  if (!rule) return 400;
  return typeof rule[1] === 'number' ? rule[1] : rule[1](message);
}

const RAISE_MESSAGE_HINT = "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.";
const RAISE_DETAIL_HINT = "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.";

function jsonObject(text: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text ?? '');
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const optionalText = (v: unknown) => v === undefined || v === null || typeof v === 'string';

/**
 * `RAISE SQLSTATE 'PGRST' USING message = '{"code":…,"message":…}', detail = '{"status":…,"headers":{…}}'`:
 * the function chooses the whole response (Error.hs parseRaisePGRST).
 */
function fromRaisePgrst(err: PgError): RestError {
  const message = jsonObject(err.message);
  if (
    !message ||
    typeof message.code !== 'string' ||
    typeof message.message !== 'string' ||
    !optionalText(message.details) ||
    !optionalText(message.hint)
  ) {
    return ERRORS.raiseNotParsed(`Invalid JSON value for MESSAGE: '${err.message}'`, RAISE_MESSAGE_HINT);
  }
  if (err.detail === undefined) return ERRORS.raiseNotParsed('DETAIL is missing in the RAISE statement', RAISE_DETAIL_HINT);
  const detail = jsonObject(err.detail);
  const headers = detail?.headers;
  const headersValid =
    typeof headers === 'object' &&
    headers !== null &&
    !Array.isArray(headers) &&
    Object.values(headers).every((v) => typeof v === 'string');
  if (!detail || !Number.isInteger(detail.status) || !headersValid || !optionalText(detail.status_text)) {
    return ERRORS.raiseNotParsed(`Invalid JSON value for DETAIL: '${err.detail}'`, RAISE_DETAIL_HINT);
  }
  const lowerCased = Object.fromEntries(Object.entries(headers as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
  return new RestError(
    detail.status as number,
    message.code,
    message.message,
    (message.details as string) ?? null,
    (message.hint as string) ?? null,
    lowerCased,
  );
}

export function fromPgError(err: PgError, authed: boolean): RestError {
  if (err.code === 'PGRST') return fromRaisePgrst(err);
  const status = statusForPgError(err, authed);
  const headers: Record<string, string> = status === 401 ? { 'www-authenticate': 'Bearer' } : {};
  return new RestError(status, err.code, err.message, err.detail ?? null, err.hint ?? null, headers);
}
