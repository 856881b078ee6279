import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context } from '../context';

export interface Realtime {
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void;
  close(): Promise<void>;
}

export async function createRealtime(_ctx: Context): Promise<Realtime> {
  return {
    upgrade: (_req, socket) => socket.end('HTTP/1.1 404 Not Found\r\n\r\n'),
    close: async () => undefined,
  };
}
