// The one way the server runs a transaction on a pooled connection.
import type { Pool, PoolClient } from 'pg';

/**
 * Lends a pooled connection to `work`, which ends any transaction it opens; when `work` throws,
 * whatever it left open is rolled back. A connection goes back to the pool only outside any
 * transaction (the next borrower would inherit its settings otherwise); one that cannot even roll
 * back, or is still inside one, is discarded.
 */
export async function withConnection<T>(pool: Pool, work: (db: PoolClient) => Promise<T>): Promise<T> {
  const db = await pool.connect();
  let broken: Error | undefined;
  try {
    return await work(db);
  } catch (err) {
    // Queued behind whatever `work` left running, so it runs once Postgres has answered that.
    await db.query('rollback').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw err;
  } finally {
    db.release(broken ?? (db.getTransactionStatus() === 'I' ? undefined : new Error('connection left inside a transaction')));
  }
}

/**
 * Runs `work` between `begin` (e.g. "begin read only") and COMMIT; rolls back when `work` throws
 * or when `commit` refuses the result.
 */
export function inTransaction<T>(
  pool: Pool,
  begin: string,
  work: (db: PoolClient) => Promise<T>,
  commit: (result: T) => boolean = () => true,
): Promise<T> {
  return withConnection(pool, async (db) => {
    await db.query(begin);
    const result = await work(db);
    await db.query(commit(result) ? 'commit' : 'rollback');
    return result;
  });
}
