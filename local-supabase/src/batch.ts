// Several statements in one round trip: written to the connection at once, each as a named
// prepared statement the connection keeps, followed by a single Sync. Postgres runs them in order,
// skips what follows the first error, and answers everything in one write (PostgreSQL docs,
// protocol-flow.html, "Extended Query" and "Pipelining"). A text is parsed and planned once per
// connection, as PostgREST does with its prepared statements. Built on node-postgres's Submittable
// interface and its Connection messages, as pg-cursor is.
//
// A batch may take its rows as bytes: node-postgres decodes every field into a string, and a REST
// answer (one field of JSON, 24 KB for a page of 50 messages) would be decoded from UTF-8 into the
// JS heap only to be encoded again for the socket. Measured with `perf`, that decoding, encoding
// and the garbage collection of those strings took over a quarter of the server's CPU per read.
import type { Duplex } from 'node:stream';
import pg, { type ClientBase, type ClientConfig, type Connection, type Submittable } from 'pg';
import { Parser } from 'pg-protocol/dist/parser';

export interface Statement {
  text: string;
  /** Every parameter as text, as Postgres receives it (null for NULL). */
  values: Array<string | null>;
}

/** The rows of one statement, each a list of fields as text or as the bytes Postgres sent (null for NULL). */
export type Rows<Field extends string | Buffer = string> = Array<Array<Field | null>>;

/** How many statements a connection keeps prepared; past that, the least recently used is closed. */
export const PREPARED_PER_CONNECTION = 100;

let lastName = 0;

/** The statements one connection has prepared, by text. A name is never used for another text. */
class PreparedStatements {
  private readonly byText = new Map<string, string>();
  /** Names to close at the start of the next batch: evicted, or of unknown fate after an error. */
  private toClose: string[] = [];

  /** Names (and whether each needs a Parse) for `texts`, and the names to close first. */
  checkOut(texts: string[]): { names: Array<{ name: string; parse: boolean }>; close: string[] } {
    const names = texts.map((text) => {
      const known = this.byText.get(text);
      if (known !== undefined) {
        // Most recently used last.
        this.byText.delete(text);
        this.byText.set(text, known);
        return { name: known, parse: false };
      }
      const name = `lsb_${++lastName}`;
      this.byText.set(text, name);
      return { name, parse: true };
    });
    for (const [text, name] of this.byText) {
      if (this.byText.size <= PREPARED_PER_CONNECTION) break;
      this.byText.delete(text);
      this.toClose.push(name);
    }
    const close = this.toClose;
    this.toClose = [];
    return { names, close };
  }

  /**
   * After an error Postgres skipped the rest of the batch, so whether each Parse of it ran is not
   * known: forget those names and close them (closing a name that does not exist is no error).
   */
  forget(texts: string[], names: Array<{ name: string; parse: boolean }>): void {
    names.forEach(({ name, parse }, i) => {
      if (!parse || this.byText.get(texts[i]) !== name) return;
      this.byText.delete(texts[i]);
      this.toClose.push(name);
    });
  }
}

const prepared = new WeakMap<ClientBase, PreparedStatements>();

const DATA_ROW = 0x44; // 'D'
/** A backend message's type byte and its length, which counts itself but not the type byte. */
const HEADER_BYTES = 5;

/**
 * Frames the backend's messages as pg-protocol's parser does and hands each to it, except DataRow
 * messages while `rowsAsBytes` is set: their fields are passed on as views of the bytes received.
 * Node gives every read its own buffer, so a view stays valid after the next read.
 */
class RowParser {
  rowsAsBytes = false;
  private readonly messages = new Parser();
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes the next message needs before it can be handed on. */
  private needed = HEADER_BYTES;

  parse(chunk: Buffer, callback: (message: unknown) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    // Joined only once a whole message is in, so a large message read in many pieces is copied once.
    if (this.buffered < this.needed) return;
    const buffer = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    let offset = 0;
    for (;;) {
      if (buffer.length - offset < HEADER_BYTES) {
        this.needed = HEADER_BYTES;
        break;
      }
      const end = offset + 1 + buffer.readUInt32BE(offset + 1);
      if (end > buffer.length) {
        this.needed = end - offset;
        break;
      }
      if (this.rowsAsBytes && buffer[offset] === DATA_ROW) callback(dataRowOfBytes(buffer, offset + HEADER_BYTES, end));
      else this.messages.parse(buffer.subarray(offset, end), callback);
      offset = end;
    }
    const rest = buffer.subarray(offset);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
  }
}

/** A DataRow message (PostgreSQL docs, protocol-message-formats.html) with its fields as bytes. */
function dataRowOfBytes(buffer: Buffer, start: number, end: number): { name: 'dataRow'; length: number; fields: Array<Buffer | null> } {
  const fields = new Array<Buffer | null>(buffer.readInt16BE(start));
  let at = start + 2;
  for (let i = 0; i < fields.length; i++) {
    const length = buffer.readInt32BE(at);
    at += 4;
    fields[i] = length < 0 ? null : buffer.subarray(at, at + length);
    if (length > 0) at += length;
  }
  return { name: 'dataRow', length: end - start + 4, fields };
}

const rowParsers = new WeakMap<Connection, RowParser>();

/**
 * A node-postgres client whose batches can take their rows as bytes: for the pools that serve
 * requests (`new pg.Pool({ Client: BatchClient })`). Every other query runs as on any client.
 */
export class BatchClient extends pg.Client {
  constructor(config?: string | ClientConfig) {
    super(config);
    // A batch knows its rows by arriving before its own ReadyForQuery: one query at a time.
    if (this.pipeline) throw new Error('a BatchClient does not pipeline queries');
    const connection = this.connection as Connection & {
      attachListeners(stream: Duplex): void;
      _emitMessage: boolean;
    };
    const parser = new RowParser();
    rowParsers.set(connection, parser);
    // What node-postgres's Connection#attachListeners (lib/connection.js) does, with RowParser in
    // place of pg-protocol's parse().
    connection.attachListeners = (stream) => {
      stream.on('data', (chunk: Buffer) =>
        parser.parse(chunk, (message) => {
          const { name } = message as { name: string };
          if (connection._emitMessage) connection.emit('message', message);
          connection.emit(name === 'error' ? 'errorMessage' : name, message);
        }),
      );
    };
  }
}

class Batch<Field extends string | Buffer> implements Submittable {
  private readonly results: Array<Rows<Field>> = [[]];
  private names: Array<{ name: string; parse: boolean }> = [];
  private parser: RowParser | undefined;
  callback: (error: Error | null, results?: Array<Rows<Field>>) => void = () => undefined;

  constructor(
    private readonly statements: Statement[],
    private readonly cache: PreparedStatements,
    private readonly asBytes: boolean,
  ) {}

  private get texts(): string[] {
    return this.statements.map((s) => s.text);
  }

  /**
   * Names are chosen when the batch is sent, so a batch queued behind a failing one sees what that
   * one forgot. A batch that cannot run on this connection returns its error instead of sending
   * anything, and node-postgres hands that to handleError.
   */
  submit(connection: Connection): Error | undefined {
    if (this.asBytes) {
      this.parser = rowParsers.get(connection);
      if (!this.parser) return new Error('rows as bytes need a BatchClient connection');
      // Only this batch's answers arrive until its ReadyForQuery.
      this.parser.rowsAsBytes = true;
    }
    const { names, close } = this.cache.checkOut(this.texts);
    this.names = names;
    // One write for the whole batch, however many messages.
    connection.stream.cork();
    try {
      for (const name of close) connection.close({ type: 'S', name }, true);
      this.statements.forEach((statement, i) => {
        const { name, parse } = names[i];
        if (parse) connection.parse({ name, text: statement.text, types: [] }, true);
        connection.bind({ statement: name, values: statement.values }, true);
        connection.execute({}, true);
      });
      connection.sync();
    } finally {
      connection.stream.uncork();
    }
    return undefined;
  }

  handleDataRow(message: { fields: Array<Field | null> }): void {
    this.results[this.results.length - 1].push(message.fields);
  }

  private done(): void {
    if (this.parser) this.parser.rowsAsBytes = false;
  }

  handleCommandComplete(): void {
    this.results.push([]);
  }

  /** node-postgres hands an ErrorResponse to the batch and then forgets it: no ReadyForQuery follows here. */
  handleError(error: Error): void {
    this.done();
    this.cache.forget(this.texts, this.names);
    this.callback(error);
  }

  handleReadyForQuery(): void {
    this.done();
    this.callback(null, this.results.slice(0, this.statements.length));
  }
}

/**
 * Runs `statements` on `db` in one round trip and resolves with each one's rows, as text or, on a
 * BatchClient, as the bytes Postgres sent; rejects with the first error, after which the statements
 * behind it did not run. A transaction left open or failed is the caller's to end.
 */
export function runBatch(db: ClientBase, statements: Statement[]): Promise<Array<Rows<string>>>;
export function runBatch(db: ClientBase, statements: Statement[], rows: 'bytes'): Promise<Array<Rows<Buffer>>>;
export function runBatch(db: ClientBase, statements: Statement[], rows?: 'bytes'): Promise<Array<Rows<string | Buffer>>> {
  let cache = prepared.get(db);
  if (!cache) {
    cache = new PreparedStatements();
    prepared.set(db, cache);
  }
  const batch = new Batch<string | Buffer>(statements, cache, rows === 'bytes');
  return new Promise((resolve, reject) => {
    batch.callback = (error, results) => (error ? reject(error) : resolve(results!));
    db.query(batch);
  });
}
