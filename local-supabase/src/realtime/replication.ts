// Streams the supabase_realtime publication from a temporary logical replication slot (pgoutput).
// The slot is TEMPORARY: Postgres drops it when our connection ends, so a crash or a kill can never
// leave a slot pinning WAL. Every received position is acknowledged at once, so no WAL piles up
// whether or not anyone listens. Rows of tables nobody listens to are not decoded, so a bulk load
// into a published table holds none of its rows in the server.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PgoutputDecoder, POSTGRES_EPOCH_MS, type Relation, type Tuple } from './pgoutput';

export type ChangeType = 'INSERT' | 'UPDATE' | 'DELETE';

export interface RowChange {
  /** The transaction's id (32 bits, as pgoutput sends it). */
  xid: number;
  relation: Relation;
  type: ChangeType;
  new: Tuple | null;
  old: Tuple | null;
  /** UTC ISO with milliseconds, from the transaction's Commit message. */
  commitTimestamp: string;
}

export interface ReplicationOptions {
  connectionString: string;
  publication: string;
  /**
   * Whether anyone may want changes of this table, asked as each change arrives. pgoutput sends a
   * transaction only once it has committed, so a channel that joins while one streams in had
   * joined after its commit, and gets what is left of it.
   */
  wants: (relation: Relation) => boolean;
  /** Called once per committed transaction that changed wanted tables, in commit order. */
  onTransaction: (changes: RowChange[]) => void;
  /** Called after the feed reconnected following a loss: what committed in between was not seen. */
  onResumed: () => void;
  log: (line: string) => void;
}

/** pg has no public API for CopyBoth streams; these are the Connection methods it uses for COPY. */
interface CopyBothConnection {
  on(event: 'copyData', listener: (message: { chunk: Buffer }) => void): void;
  sendCopyFromChunk(chunk: Buffer): void;
}

const RECONNECT_DELAY_MS = 1000;

export class ReplicationFeed {
  private client: pg.Client | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ReplicationOptions) {}

  /** Resolves once the slot exists: every transaction committed from then on will be delivered. */
  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.connectionString, replication: 'database' } as pg.ClientConfig);
    this.client = client;
    let streaming = false;
    const lost = (err: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      if (this.closed || !streaming) return;
      this.options.log(`realtime: replication connection lost (${err.message}); reconnecting`);
      this.scheduleReconnect();
    };
    client.on('error', lost);
    try {
      await client.connect();
      const slot = `local_realtime_${randomBytes(6).toString('hex')}`;
      await client.query(`CREATE_REPLICATION_SLOT ${slot} TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT`);
      const connection = (client as unknown as { connection: CopyBothConnection }).connection;
      this.consume(connection);
      streaming = true;
      client
        .query(`START_REPLICATION SLOT ${slot} LOGICAL 0/0 (proto_version '1', publication_names '${this.options.publication}')`)
        .then(() => lost(new Error('replication stream ended')), lost);
    } catch (err) {
      this.client = undefined;
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private scheduleReconnect(): void {
    this.reconnectTimer = setTimeout(() => {
      if (this.closed) return;
      this.start().then(this.options.onResumed, (err: Error) => {
        this.options.log(`realtime: replication reconnect failed (${err.message}); retrying`);
        this.scheduleReconnect();
      });
    }, RECONNECT_DELAY_MS);
  }

  private consume(connection: CopyBothConnection): void {
    const decoder = new PgoutputDecoder();
    let xid = 0;
    let transaction: Array<Omit<RowChange, 'commitTimestamp' | 'xid'>> = [];
    connection.on('copyData', ({ chunk }) => {
      const kind = String.fromCharCode(chunk[0]);
      if (kind === 'k') {
        // Primary keepalive: confirm its WAL end so Postgres may recycle everything before it. Even
        // mid-transaction this is safe: a temporary slot is never resumed from the confirmed point.
        acknowledge(connection, chunk.readBigUInt64BE(1));
        return;
      }
      if (kind !== 'w') return;
      // XLogData: 1 + start LSN (8) + WAL end (8) + send time (8), then one pgoutput message.
      const message = decoder.decode(chunk.subarray(25), this.options.wants);
      switch (message.tag) {
        case 'begin':
          xid = message.xid;
          break;
        case 'insert':
          transaction.push({ relation: message.relation, type: 'INSERT', new: message.new, old: null });
          break;
        case 'update':
          transaction.push({ relation: message.relation, type: 'UPDATE', new: message.new, old: message.old });
          break;
        case 'delete':
          transaction.push({ relation: message.relation, type: 'DELETE', new: null, old: message.old });
          break;
        case 'commit': {
          const changes = transaction.map((c) => ({ ...c, xid, commitTimestamp: message.commitTimestamp }));
          transaction = [];
          if (changes.length > 0) this.options.onTransaction(changes);
          acknowledge(connection, message.endLsn);
          break;
        }
      }
    });
  }
}

/** Standby status update: written = flushed = applied = lsn, so the slot may release the WAL. */
function acknowledge(connection: CopyBothConnection, lsn: bigint): void {
  const update = Buffer.alloc(34);
  update.write('r', 0);
  update.writeBigUInt64BE(lsn, 1);
  update.writeBigUInt64BE(lsn, 9);
  update.writeBigUInt64BE(lsn, 17);
  update.writeBigInt64BE(BigInt(Date.now() - POSTGRES_EPOCH_MS) * 1000n, 25);
  update.writeUInt8(0, 33);
  connection.sendCopyFromChunk(update);
}
