// One call to a server process's inspector (started with --inspect): the Chrome DevTools Protocol
// over the WebSocket URL that Node prints when it starts.
import WebSocket from 'ws';
import type { ServerProcess } from '../../bench/server-process';

/** Sends `method` with `params` to the server's inspector and resolves with its result. */
export async function inspectorCall<T = unknown>(server: ServerProcess, method: string, params: object = {}): Promise<T> {
  const url = /Debugger listening on (ws:\/\/\S+)/.exec(server.banner)?.[1];
  if (!url) throw new Error('the server was not started with --inspect');
  const inspector = new WebSocket(url);
  try {
    await new Promise((resolve, reject) => inspector.once('open', resolve).once('error', reject));
    return await new Promise<T>((resolve, reject) => {
      inspector.on('message', (data) => {
        const message = JSON.parse(String(data)) as { id?: number; result?: T; error?: { message: string } };
        if (message.id !== 1) return;
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message.result as T);
      });
      inspector.send(JSON.stringify({ id: 1, method, params }));
    });
  } finally {
    inspector.close();
  }
}

/** Evaluates `expression` in the server's main context and resolves with its value (JSON-serialisable). */
export async function evaluateInServer<T>(server: ServerProcess, expression: string): Promise<T> {
  const { result, exceptionDetails } = await inspectorCall<{ result: { value: T }; exceptionDetails?: { text: string } }>(
    server,
    'Runtime.evaluate',
    { expression, returnByValue: true },
  );
  if (exceptionDetails) throw new Error(`${expression}: ${exceptionDetails.text}`);
  return result.value;
}
