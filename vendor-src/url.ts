// WHATWG URL and URLSearchParams for the vendor bundle: WeChat has neither (or, on some base
// library versions, broken ones that throw). Written here because the maintained packages are
// either DOM-based (url-polyfill parses through an <a> element) or far over the size budget
// (whatwg-url pulls in tr46 and webidl). It covers hierarchical URLs with the special schemes
// (http, https, ws, wss), which is every URL supabase-js builds; anything else is rejected the way
// an invalid URL is, so a wrong result can never pass silently.

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

// Percent-encode sets of the URL standard (C0 controls and non-ASCII are always encoded).
const FRAGMENT_SET = ' "<>`';
const QUERY_SET = ' "#<>\'';
const PATH_SET = QUERY_SET.replace("'", '') + '?`{}';
const USERINFO_SET = PATH_SET + '/:;=@[\\]^|';

/** Replaces lone surrogates with U+FFFD, as the standard's UTF-8 encoding step does. */
function wellFormed(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text[i] + text[i + 1];
        i++;
      } else out += '\ufffd';
    } else if (code >= 0xdc00 && code <= 0xdfff) out += '\ufffd';
    else out += text[i];
  }
  return out;
}

function percentEncode(text: string, set: string): string {
  let out = '';
  for (const char of wellFormed(text)) {
    const code = char.charCodeAt(0);
    if (code > 0x7e) out += encodeURIComponent(char);
    else if (code < 0x21 || set.indexOf(char) >= 0) out += '%' + (code < 16 ? '0' : '') + code.toString(16).toUpperCase();
    else out += char;
  }
  return out;
}

/** UTF-8 bytes to text; each maximal invalid subsequence becomes one U+FFFD (WHATWG Encoding). */
function utf8Decode(bytes: number[]): string {
  let out = '';
  let needed = 0;
  let seen = 0;
  let codePoint = 0;
  let lower = 0x80;
  let upper = 0xbf;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (needed === 0) {
      if (byte <= 0x7f) out += String.fromCharCode(byte);
      else if (byte >= 0xc2 && byte <= 0xdf) [needed, codePoint] = [1, byte & 0x1f];
      else if (byte >= 0xe0 && byte <= 0xef) {
        if (byte === 0xe0) lower = 0xa0;
        if (byte === 0xed) upper = 0x9f;
        [needed, codePoint] = [2, byte & 0xf];
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        if (byte === 0xf0) lower = 0x90;
        if (byte === 0xf4) upper = 0x8f;
        [needed, codePoint] = [3, byte & 0x7];
      } else out += '\ufffd';
      continue;
    }
    if (byte < lower || byte > upper) {
      // The sequence ends here; this byte starts over.
      [needed, seen, codePoint, lower, upper] = [0, 0, 0, 0x80, 0xbf];
      out += '\ufffd';
      i--;
      continue;
    }
    [lower, upper] = [0x80, 0xbf];
    codePoint = (codePoint << 6) | (byte & 0x3f);
    if (++seen === needed) {
      out += String.fromCodePoint(codePoint);
      [needed, seen, codePoint] = [0, 0, 0];
    }
  }
  return needed ? out + '\ufffd' : out;
}

/** Decodes %XX runs as UTF-8 and leaves a '%' that starts no escape as it is, like the standard. */
function percentDecode(text: string): string {
  return text.replace(/(%[0-9a-fA-F]{2})+/g, (run) =>
    utf8Decode(
      run
        .slice(1)
        .split('%')
        .map((hex) => parseInt(hex, 16)),
    ),
  );
}

/** application/x-www-form-urlencoded serialization of one name or value. */
function formEncode(text: string): string {
  return encodeURIComponent(wellFormed(text))
    .replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
}

function formDecode(text: string): string {
  return percentDecode(text.replace(/\+/g, ' '));
}

/** Names and values are USVStrings: lone surrogates become U+FFFD on the way in. */
function usv(value: unknown): string {
  return wellFormed(String(value));
}

type ParamsInit = string | Record<string, string> | Array<[string, string]> | URLSearchParams | undefined;

export class URLSearchParams {
  private list: Array<[string, string]> = [];
  /** The URL whose query this object is, so that every change shows in its href. */
  private owner: URL | null = null;

  constructor(init?: ParamsInit) {
    if (init == null) return;
    if (typeof init === 'string') this.parse(init);
    else if (init instanceof URLSearchParams) this.list = init.list.map(([k, v]) => [k, v]);
    else if (Array.isArray(init)) {
      for (const pair of init) {
        if (pair.length !== 2) throw new TypeError('Each query pair must be a [name, value] tuple');
        this.list.push([usv(pair[0]), usv(pair[1])]);
      }
    } else for (const key of Object.keys(init)) this.list.push([usv(key), usv(init[key])]);
  }

  get size(): number {
    return this.list.length;
  }

  append(name: string, value: string): void {
    this.list.push([usv(name), usv(value)]);
    this.changed();
  }

  set(name: string, value: string): void {
    name = usv(name);
    const index = this.list.findIndex(([k]) => k === name);
    if (index < 0) this.list.push([name, usv(value)]);
    else {
      this.list[index][1] = usv(value);
      this.list = this.list.filter(([k], i) => i <= index || k !== name);
    }
    this.changed();
  }

  get(name: string): string | null {
    const pair = this.list.find(([k]) => k === name);
    return pair ? pair[1] : null;
  }

  getAll(name: string): string[] {
    return this.list.filter(([k]) => k === name).map(([, v]) => v);
  }

  has(name: string, value?: string): boolean {
    return this.list.some(([k, v]) => k === name && (value === undefined || v === value));
  }

  delete(name: string, value?: string): void {
    this.list = this.list.filter(([k, v]) => !(k === name && (value === undefined || v === value)));
    this.changed();
  }

  sort(): void {
    // Array.prototype.sort is stable from ES2019; the index keeps it stable on older engines too.
    this.list = this.list
      .map((pair, index) => ({ pair, index }))
      .sort((a, b) => (a.pair[0] < b.pair[0] ? -1 : a.pair[0] > b.pair[0] ? 1 : a.index - b.index))
      .map(({ pair }) => pair);
    this.changed();
  }

  forEach(callback: (value: string, name: string, params: URLSearchParams) => void, thisArg?: unknown): void {
    for (const [k, v] of this.list.slice()) callback.call(thisArg, v, k, this);
  }

  keys(): IterableIterator<string> {
    return this.list.map(([k]) => k)[Symbol.iterator]();
  }

  values(): IterableIterator<string> {
    return this.list.map(([, v]) => v)[Symbol.iterator]();
  }

  entries(): IterableIterator<[string, string]> {
    return this.list.map(([k, v]): [string, string] => [k, v])[Symbol.iterator]();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  toString(): string {
    return this.list.map(([k, v]) => formEncode(k) + '=' + formEncode(v)).join('&');
  }

  /** Called by URL: ties this object to its query. */
  static attach(params: URLSearchParams, owner: URL, query: string): void {
    params.owner = owner;
    params.list = [];
    params.parse(query);
  }

  private parse(query: string): void {
    for (const part of (query[0] === '?' ? query.slice(1) : query).split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      this.list.push(eq < 0 ? [formDecode(part), ''] : [formDecode(part.slice(0, eq)), formDecode(part.slice(eq + 1))]);
    }
  }

  private changed(): void {
    if (this.owner) URL.queryChanged(this.owner, this.toString());
  }
}

interface Parts {
  protocol: string;
  username: string;
  password: string;
  hostname: string;
  port: string;
  pathname: string;
  /** Without the leading '?'; null when the URL has no query at all. */
  query: string | null;
  /** Without the leading '#'; null when the URL has no fragment. */
  fragment: string | null;
}

const ABSOLUTE = /^([a-zA-Z][a-zA-Z0-9+.-]*:)(.*)$/;
const AFTER_SCHEME = /^\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/;
const RELATIVE = /^([^?#]*)(\?[^#]*)?(#.*)?$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the C0 controls are what the standard trims
const C0_OR_SPACE_AT_ENDS = /^[\x00-\x20]+|[\x00-\x20]+$/g;

/** '?a=b' → 'a=b' encoded for a URL; undefined (no '?') → null. */
function encodeQuery(raw: string | undefined): string | null {
  return raw === undefined ? null : percentEncode(raw.slice(1), QUERY_SET);
}

function encodeFragment(raw: string | undefined): string | null {
  return raw === undefined ? null : percentEncode(raw.slice(1), FRAGMENT_SET);
}

function invalid(input: string): TypeError {
  return new TypeError(`Invalid URL: ${input}`);
}

function normalizePath(path: string): string {
  const out: string[] = [];
  const segments = path.split('/').slice(1);
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    const lower = segment.toLowerCase();
    if (segment === '..' || lower === '.%2e' || lower === '%2e.' || lower === '%2e%2e') {
      out.pop();
      if (last) out.push('');
    } else if (segment === '.' || lower === '%2e') {
      if (last) out.push('');
    } else out.push(segment);
  });
  return '/' + out.map((segment) => percentEncode(segment, PATH_SET)).join('/');
}

function parseAuthority(authority: string, input: string): Pick<Parts, 'username' | 'password' | 'hostname' | 'port'> {
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? '' : authority.slice(0, at);
  const hostPort = authority.slice(at + 1);
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:]*)(?::(\d*))?$/.exec(hostPort);
  if (!match?.[1] || /[\s#%/<>?@[\\\]^|]/.test(match[1].replace(/^\[.*\]$/, 'ipv6'))) throw invalid(input);
  if (/[^\x21-\x7e]/.test(match[1])) throw invalid(input);
  const port = match[2] ? String(parseInt(match[2], 10)) : '';
  if (port && Number(port) > 65535) throw invalid(input);
  const colon = userinfo.indexOf(':');
  return {
    username: percentEncode(colon < 0 ? userinfo : userinfo.slice(0, colon), USERINFO_SET),
    password: colon < 0 ? '' : percentEncode(userinfo.slice(colon + 1), USERINFO_SET),
    hostname: match[1].toLowerCase(),
    port,
  };
}

function parseAbsolute(input: string): Parts {
  const scheme = ABSOLUTE.exec(input);
  if (!scheme) throw invalid(input);
  const protocol = scheme[1].toLowerCase();
  if (!(protocol in DEFAULT_PORTS)) throw invalid(input);
  const rest = AFTER_SCHEME.exec(scheme[2].replace(/^\/*/, '//'));
  if (!rest) throw invalid(input);
  const authority = parseAuthority(rest[1], input);
  return {
    protocol,
    ...authority,
    port: authority.port === DEFAULT_PORTS[protocol] ? '' : authority.port,
    pathname: normalizePath(rest[2] || '/'),
    query: encodeQuery(rest[3]),
    fragment: encodeFragment(rest[4]),
  };
}

function resolve(input: string, base: Parts): Parts {
  if (input.startsWith('//')) return parseAbsolute(base.protocol + input);
  const match = RELATIVE.exec(input)!;
  const [, path, query, fragment] = match;
  const resolved: Parts = { ...base, fragment: encodeFragment(fragment) };
  if (path) {
    const directory = base.pathname.slice(0, base.pathname.lastIndexOf('/') + 1);
    resolved.pathname = normalizePath(path[0] === '/' ? path : directory + path);
    resolved.query = encodeQuery(query);
  } else if (query !== undefined) resolved.query = encodeQuery(query);
  else if (fragment === undefined) resolved.fragment = null;
  return resolved;
}

export class URL {
  private parts: Parts;
  readonly searchParams: URLSearchParams;

  constructor(url: string | URL, base?: string | URL) {
    // Tabs and newlines are stripped and C0/space trimmed before parsing, as the standard says.
    const input = String(url)
      .replace(/[\t\n\r]/g, '')
      .replace(C0_OR_SPACE_AT_ENDS, '');
    const baseParts = base === undefined ? null : base instanceof URL ? base.parts : new URL(base).parts;
    const scheme = ABSOLUTE.exec(input);
    // `http:foo` against an http base is a relative reference (the standard's special-scheme rule).
    const relativeWithScheme = scheme && baseParts && scheme[1].toLowerCase() === baseParts.protocol && scheme[2][0] !== '/';
    if (scheme && !relativeWithScheme) this.parts = parseAbsolute(input);
    else if (baseParts) this.parts = resolve(scheme ? scheme[2] : input, baseParts);
    else throw invalid(input);
    this.searchParams = new URLSearchParams();
    URLSearchParams.attach(this.searchParams, this, this.parts.query ?? '');
  }

  /** Called by URLSearchParams when the query object of this URL changes. */
  static queryChanged(url: URL, serialized: string): void {
    url.parts.query = serialized === '' ? null : serialized;
  }

  get href(): string {
    const { protocol, username, password, pathname, query, fragment } = this.parts;
    const credentials = username || password ? username + (password ? ':' + password : '') + '@' : '';
    return (
      protocol + '//' + credentials + this.host + pathname + (query === null ? '' : '?' + query) + (fragment === null ? '' : '#' + fragment)
    );
  }

  set href(value: string) {
    this.parts = parseAbsolute(String(value));
    URLSearchParams.attach(this.searchParams, this, this.parts.query ?? '');
  }

  get origin(): string {
    return this.parts.protocol + '//' + this.host;
  }

  get protocol(): string {
    return this.parts.protocol;
  }

  set protocol(value: string) {
    const scheme = String(value).replace(/:.*$/, '').toLowerCase() + ':';
    // Only a special scheme may replace a special scheme; anything else leaves the URL unchanged.
    if (!(scheme in DEFAULT_PORTS)) return;
    this.parts.protocol = scheme;
    if (this.parts.port === DEFAULT_PORTS[scheme]) this.parts.port = '';
  }

  get username(): string {
    return this.parts.username;
  }

  get password(): string {
    return this.parts.password;
  }

  get host(): string {
    return this.parts.hostname + (this.parts.port ? ':' + this.parts.port : '');
  }

  get hostname(): string {
    return this.parts.hostname;
  }

  get port(): string {
    return this.parts.port;
  }

  get pathname(): string {
    return this.parts.pathname;
  }

  set pathname(value: string) {
    const path = String(value);
    this.parts.pathname = normalizePath(path[0] === '/' ? path : '/' + path);
  }

  get search(): string {
    return this.parts.query ? '?' + this.parts.query : '';
  }

  set search(value: string) {
    const query = String(value).replace(/^\?/, '');
    this.parts.query = query === '' ? null : encodeQuery('?' + query);
    URLSearchParams.attach(this.searchParams, this, this.parts.query ?? '');
  }

  get hash(): string {
    return this.parts.fragment ? '#' + this.parts.fragment : '';
  }

  set hash(value: string) {
    const fragment = String(value).replace(/^#/, '');
    this.parts.fragment = fragment === '' ? null : percentEncode(fragment, FRAGMENT_SET);
  }

  toString(): string {
    return this.href;
  }

  toJSON(): string {
    return this.href;
  }

  static canParse(url: string, base?: string): boolean {
    try {
      new URL(url, base);
      return true;
    } catch {
      return false;
    }
  }
}
