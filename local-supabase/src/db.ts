// The one way the server runs a transaction on a pooled connection.
import type { Pool, PoolClient } from 'pg';

/**
 * Runs `work` between `begin` (e.g. "begin read only") and COMMIT; rolls back when `work` throws
 * or when `commit` refuses the result. A connection that cannot even roll back is discarded,
 * never returned to the pool.
 */
export async function inTransaction<T>(
  pool: Pool,
  begin: string,
  work: (db: PoolClient) => Promise<T>,
  commit: (result: T) => boolean = () => true,
): Promise<T> {
  const db = await pool.connect();
  let broken: Error | undefined;
  try {
    await db.query(begin);
    const result = await work(db);
    await db.query(commit(result) ? 'commit' : 'rollback');
    return result;
  } catch (err) {
    await db.query('rollback').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw err;
  } finally {
    db.release(broken);
  }
}
