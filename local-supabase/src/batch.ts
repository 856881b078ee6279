// Several statements in one round trip: written to the connection at once, each as a named
// prepared statement the connection keeps, followed by a single Sync. Postgres runs them in order,
// skips what follows the first error, and answers everything in one write (PostgreSQL docs,
// protocol-flow.html, "Extended Query" and "Pipelining"). A text is parsed and planned once per
// connection, as PostgREST does with its prepared statements. Built on node-postgres's Submittable
// interface and its Connection messages, as pg-cursor is.
import type { ClientBase, Connection, Submittable } from 'pg';

export interface Statement {
  text: string;
  /** Every parameter as text, as Postgres receives it (null for NULL). */
  values: Array<string | null>;
}

/** The rows of one statement, each a list of text fields (null for NULL). */
export type Rows = Array<Array<string | null>>;

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

class Batch implements Submittable {
  private readonly results: Rows[] = [[]];
  private names: Array<{ name: string; parse: boolean }> = [];
  callback: (error: Error | null, results?: Rows[]) => void = () => undefined;

  constructor(
    private readonly statements: Statement[],
    private readonly cache: PreparedStatements,
  ) {}

  private get texts(): string[] {
    return this.statements.map((s) => s.text);
  }

  /** Names are chosen when the batch is sent, so a batch queued behind a failing one sees what that one forgot. */
  submit(connection: Connection): void {
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
  }

  handleDataRow(message: { fields: Array<string | null> }): void {
    this.results[this.results.length - 1].push(message.fields);
  }

  handleCommandComplete(): void {
    this.results.push([]);
  }

  /** node-postgres hands an ErrorResponse to the batch and then forgets it: no ReadyForQuery follows here. */
  handleError(error: Error): void {
    this.cache.forget(this.texts, this.names);
    this.callback(error);
  }

  handleReadyForQuery(): void {
    this.callback(null, this.results.slice(0, this.statements.length));
  }
}

/**
 * Runs `statements` on `db` in one round trip and resolves with each one's rows; rejects with the
 * first error, after which the statements behind it did not run. A transaction left open or failed
 * is the caller's to end.
 */
export function runBatch(db: ClientBase, statements: Statement[]): Promise<Rows[]> {
  let cache = prepared.get(db);
  if (!cache) {
    cache = new PreparedStatements();
    prepared.set(db, cache);
  }
  const batch = new Batch(statements, cache);
  return new Promise((resolve, reject) => {
    batch.callback = (error, results) => (error ? reject(error) : resolve(results!));
    db.query(batch);
  });
}
