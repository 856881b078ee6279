// The vendor bundle's hand-written polyfills against Node's own implementations, on the URL
// shapes supabase-js builds (supabase/supabase-js: packages/core/supabase-js/src/SupabaseClient.ts and
// packages/core/realtime-js/src/RealtimeClient.ts), plus the Headers package we bind.
import { Headers as PolyfillHeaders } from 'headers-polyfill';
import { AbortController as PolyfillAbortController, AbortSignal as PolyfillAbortSignal } from '../vendor-src/abort';
import { URL as PolyfillURL, URLSearchParams as PolyfillURLSearchParams } from '../vendor-src/url';

/** Every readable part of a URL, so a comparison shows which one differs. */
function describe_(url: {
  href: string;
  protocol: string;
  host: string;
  hostname: string;
  port: string;
  pathname: string;
  search: string;
  hash: string;
  origin: string;
}) {
  const { href, protocol, host, hostname, port, pathname, search, hash, origin } = url;
  return { href, protocol, host, hostname, port, pathname, search, hash, origin, string: String(url) };
}

function both(input: string, base?: string) {
  return { ours: describe_(new PolyfillURL(input, base)), node: describe_(new URL(input, base)) };
}

describe('URL', () => {
  const parsed: Array<[string, string | undefined]> = [
    ['https://abc.supabase.co', undefined],
    ['https://abc.supabase.co/', undefined],
    ['http://127.0.0.1:54321/rest/v1/messages?select=*&room_id=eq.1', undefined],
    ['https://api.example.com:8443/auth/v1/token?grant_type=refresh_token', undefined],
    ['https://API.Example.COM:443/Path/../other/./x', undefined],
    ['http://localhost:80/a b/你好?q=a b&x=你#frag ment', undefined],
    ['wss://abc.supabase.co/realtime/v1/websocket?apikey=key&vsn=1.0.0', undefined],
    ['http://user:pa ss@host.test/p', undefined],
    ['HTTP://host.test', undefined],
    ['  https://host.test/trim  ', undefined],
    ['http://[::1]:3000/x', undefined],
    ['realtime/v1', 'https://abc.supabase.co/'],
    ['realtime/v1', 'https://abc.supabase.co'],
    ['/storage/v1/object/public/images/a.png', 'http://127.0.0.1:54321/rest/v1/x'],
    ['../up?x=1', 'https://h.test/a/b/c'],
    ['?only=query', 'https://h.test/a/b?old=1#h'],
    ['#only-hash', 'https://h.test/a/b?old=1'],
    ['//other.test/p', 'https://h.test/a'],
    ['http:relative', 'http://h.test/dir/file'],
    ['', 'https://h.test/a?b#c'],
  ];
  it.each(parsed)('parses %s (base %s) like Node', (input, base) => {
    const { ours, node } = both(input, base);
    expect(ours).toEqual(node);
  });

  it.each(['not a url', 'http://', 'http://a b/', 'https://h.test:99999/', 'https://h.test:x/'])('rejects %s like Node does', (input) => {
    expect(() => new URL(input)).toThrow('Invalid URL');
    expect(() => new PolyfillURL(input)).toThrow(TypeError);
  });

  it('rejects non-special schemes, which supabase-js never builds, instead of parsing them wrongly', () => {
    expect(() => new PolyfillURL('mailto:x@y.z')).toThrow(TypeError);
    expect(() => new PolyfillURL('data:text/plain,hi')).toThrow(TypeError);
  });

  it('builds the realtime URL the way the SupabaseClient constructor does', () => {
    const node = new URL('realtime/v1', new URL('https://abc.supabase.co/'));
    const ours = new PolyfillURL('realtime/v1', new PolyfillURL('https://abc.supabase.co/'));
    for (const url of [node, ours]) url.protocol = url.protocol.replace('http', 'ws');
    expect(ours.href).toBe(node.href);
    expect(ours.href).toBe('wss://abc.supabase.co/realtime/v1');
    expect(new PolyfillURL('https://abc.supabase.co/').hostname.split('.')[0]).toBe('abc');
  });

  it('swaps ws back to http and /websocket for /api/broadcast (REST broadcast endpoint)', () => {
    const results = [URL, PolyfillURL].map((Impl) => {
      const url = new Impl('ws://127.0.0.1:54321/realtime/v1/websocket?apikey=k&vsn=1.0.0');
      url.protocol = url.protocol.replace('ws', 'http');
      url.pathname = url.pathname.replace(/websocket$/, 'api/broadcast');
      return url.href;
    });
    expect(results[1]).toBe(results[0]);
    expect(results[0]).toBe('http://127.0.0.1:54321/realtime/v1/api/broadcast?apikey=k&vsn=1.0.0');
  });

  it('drops a port that becomes the default when the scheme changes, as Node does', () => {
    const results = [URL, PolyfillURL].map((Impl) => {
      const url = new Impl('http://h.test:443/x');
      url.protocol = 'https';
      return url.href;
    });
    expect(results[1]).toBe(results[0]);
  });

  it('refuses to turn a special scheme into a non-special one, as Node does', () => {
    const results = [URL, PolyfillURL].map((Impl) => {
      const url = new Impl('http://h.test/x');
      url.protocol = 'mailto';
      return url.href;
    });
    expect(results[1]).toBe(results[0]);
  });

  it('keeps a custom domain with a port', () => {
    const { ours, node } = both('https://db.example.cn:8443/rest/v1/');
    expect(ours).toEqual(node);
    expect(ours.host).toBe('db.example.cn:8443');
  });

  it('writes searchParams changes through to href (postgrest filters)', () => {
    const values = ['*,author:profiles(name)', 'ilike.*你好 world*', 'in.(1,2,3)', "a!'~*()b", 'x&y=z+w%'];
    const hrefs = [URL, PolyfillURL].map((Impl) => {
      const url = new Impl('http://127.0.0.1:54321/rest/v1/messages');
      url.searchParams.set('select', values[0]);
      values.slice(1).forEach((v, i) => url.searchParams.append(`f${i}`, v));
      url.searchParams.append('room_id', 'eq.1');
      url.searchParams.set('room_id', 'eq.2');
      return { href: url.href, search: url.search, params: [...url.searchParams] };
    });
    expect(hrefs[1]).toEqual(hrefs[0]);
  });

  it('re-parses searchParams when search or href is set, and drops "?" when the last one goes', () => {
    const states = [URL, PolyfillURL].map((Impl) => {
      const url = new Impl('https://h.test/p?a=1');
      url.search = '?b=2 3&c';
      const afterSearch = [url.href, [...url.searchParams]];
      url.searchParams.delete('b');
      url.searchParams.delete('c');
      const afterDelete = url.href;
      url.href = 'https://other.test/q?z=9';
      return [afterSearch, afterDelete, url.searchParams.get('z')];
    });
    expect(states[1]).toEqual(states[0]);
  });

  it('reads the token of a signed URL', () => {
    const signed = 'http://127.0.0.1:54321/storage/v1/object/sign/images/u/a.png?token=eyJ.abc-_.x%2By';
    expect(new PolyfillURL(signed).searchParams.get('token')).toBe(new URL(signed).searchParams.get('token'));
  });
});

describe('URLSearchParams', () => {
  const serialize = (Impl: typeof URLSearchParams | typeof PolyfillURLSearchParams, init: never) => {
    const params = new Impl(init);
    return { string: params.toString(), entries: [...params], size: params.size };
  };

  it.each([
    ['empty', undefined],
    ['a string with ?', '?a=1&b=x+y&c=%E4%BD%A0&d&=e&f=1=2'],
    ['malformed escapes', 'a=%zz&b=%E4%BD&c=%'],
    ['a record', { grant_type: 'refresh_token', redirect_to: 'https://x.y/?a=1&b=2' }],
    [
      'pairs',
      [
        ['a', '1'],
        ['a', '2'],
        ['sp ace', "()!'~*"],
      ],
    ],
    ['unicode and lone surrogates', { k: 'é😀\ud800x' }],
  ])('serializes %s like Node', (_name, init) => {
    expect(serialize(PolyfillURLSearchParams, init as never)).toEqual(serialize(URLSearchParams, init as never));
  });

  it('supports every method supabase-js and the app use, like Node', () => {
    const run = (Impl: typeof URLSearchParams | typeof PolyfillURLSearchParams) => {
      const p = new Impl('b=2&a=1&b=3');
      const log: unknown[] = [p.get('b'), p.getAll('b'), p.has('a'), p.has('b', '3'), p.get('missing')];
      p.append('c', 'x y');
      p.set('b', '9');
      p.delete('a');
      p.sort();
      p.forEach((value, name) => log.push(`${name}=${value}`));
      log.push([...p.keys()], [...p.values()], [...p.entries()], p.toString());
      return log;
    };
    expect(run(PolyfillURLSearchParams)).toEqual(run(URLSearchParams));
  });
});

describe('Headers (headers-polyfill, bound into the bundle)', () => {
  it('behaves like Node on the calls supabase-js makes', () => {
    const run = (Impl: typeof Headers) => {
      const h = new Impl({ 'Content-Type': 'application/json', apikey: 'k' });
      h.append('Prefer', 'return=representation');
      h.append('prefer', 'count=exact');
      h.set('X-Client-Info', 'supabase-js-wechat');
      const copy = new Impl(h);
      copy.delete('apikey');
      const pairs: string[] = [];
      copy.forEach((value, name) => pairs.push(`${name}:${value}`));
      return [
        h.get('content-type'),
        h.get('PREFER'),
        h.has('ApiKey'),
        h.get('missing'),
        copy.has('apikey'),
        pairs,
        new Impl([['A', '1']]).get('a'),
      ];
    };
    expect(run(PolyfillHeaders as unknown as typeof Headers)).toEqual(run(Headers));
  });
});

describe('AbortController', () => {
  it('aborts once, with an AbortError reason by default, and notifies listeners like Node', () => {
    const run = (Controller: typeof AbortController) => {
      const controller = new Controller();
      const events: string[] = [];
      const listener = () => events.push('listener');
      controller.signal.addEventListener('abort', listener);
      controller.signal.addEventListener('abort', () => events.push('once'), { once: true });
      controller.signal.onabort = () => events.push('onabort');
      const before = controller.signal.aborted;
      controller.abort();
      controller.abort();
      const reason = controller.signal.reason as Error;
      let thrown: unknown;
      try {
        controller.signal.throwIfAborted();
      } catch (err) {
        thrown = err;
      }
      return { before, after: controller.signal.aborted, name: reason.name, events: events.sort(), threwReason: thrown === reason };
    };
    expect(run(PolyfillAbortController as unknown as typeof AbortController)).toEqual(run(AbortController));
  });

  it('keeps a custom reason, removes listeners, and makes pre-aborted and timed-out signals', async () => {
    const controller = new PolyfillAbortController();
    const calls: string[] = [];
    const listener = () => calls.push('removed');
    controller.signal.addEventListener('abort', listener);
    controller.signal.removeEventListener('abort', listener);
    controller.abort('stop');
    expect(controller.signal.reason).toBe('stop');
    expect(calls).toEqual([]);
    expect(PolyfillAbortSignal.abort().aborted).toBe(true);
    const timed = PolyfillAbortSignal.timeout(5);
    expect(timed.aborted).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((timed.reason as Error).name).toBe('TimeoutError');
  });
});
