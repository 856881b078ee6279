// Decodes the pgoutput logical replication messages (protocol version 1) that realtime needs.
// Values stay the text Postgres sent: rendering happens in SQL, exactly as PostgREST renders rows.
// https://www.postgresql.org/docs/17/protocol-logicalrep-message-formats.html

export interface RelationColumn {
  name: string;
  typeOid: number;
  /** Part of the replica identity (the primary key by default). */
  isKey: boolean;
}

export interface Relation {
  oid: number;
  schema: string;
  table: string;
  columns: RelationColumn[];
}

/** Column name -> text value; a column whose value pgoutput did not send (unchanged TOAST) is absent. */
export type Tuple = Record<string, string | null>;

export type PgoutputMessage =
  | { tag: 'begin'; xid: number }
  | { tag: 'insert'; relation: Relation; new: Tuple }
  | { tag: 'update'; relation: Relation; old: Tuple | null; new: Tuple }
  | { tag: 'delete'; relation: Relation; old: Tuple }
  | { tag: 'commit'; endLsn: bigint; commitTimestamp: string }
  | { tag: 'ignored' };

/** Postgres timestamps count microseconds from 2000-01-01 UTC. */
export const POSTGRES_EPOCH_MS = Date.UTC(2000, 0, 1);

class Reader {
  private offset = 0;
  constructor(private readonly buf: Buffer) {}
  byte(): number {
    return this.buf.readUInt8(this.offset++);
  }
  int16(): number {
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  int64(): bigint {
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.offset);
    const s = this.buf.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return s;
  }
  text(length: number): string {
    const s = this.buf.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return s;
  }
}

export class PgoutputDecoder {
  private readonly relations = new Map<number, Relation>();

  /** A change of a relation `wanted` refuses is not read further: its row is never decoded. */
  decode(buf: Buffer, wanted: (relation: Relation) => boolean = () => true): PgoutputMessage {
    const r = new Reader(buf);
    const tag = String.fromCharCode(r.byte());
    if (tag === 'I' || tag === 'U' || tag === 'D') {
      const relation = this.relation(r.int32());
      return wanted(relation) ? readChange(tag, relation, r) : { tag: 'ignored' };
    }
    switch (tag) {
      case 'R':
        this.readRelation(r);
        return { tag: 'ignored' };
      case 'B':
        r.int64(); // final LSN
        r.int64(); // commit time (the Commit message carries it too)
        return { tag: 'begin', xid: r.int32() >>> 0 };
      case 'C': {
        r.byte(); // flags
        r.int64(); // commit LSN
        const endLsn = r.int64();
        const micros = r.int64();
        const commitTimestamp = new Date(POSTGRES_EPOCH_MS + Number(micros / 1000n)).toISOString();
        return { tag: 'commit', endLsn, commitTimestamp };
      }
      default:
        // Origin, Type, Truncate, Message: nothing realtime delivers.
        return { tag: 'ignored' };
    }
  }

  private readRelation(r: Reader): void {
    const oid = r.int32();
    const schema = r.cstring();
    const table = r.cstring();
    r.byte(); // replica identity setting
    const columns: RelationColumn[] = [];
    for (let n = r.int16(); n > 0; n--) {
      const isKey = (r.byte() & 1) === 1;
      const name = r.cstring();
      const typeOid = r.int32();
      r.int32(); // type modifier
      columns.push({ name, typeOid, isKey });
    }
    this.relations.set(oid, { oid, schema, table, columns });
  }

  private relation(oid: number): Relation {
    const relation = this.relations.get(oid);
    // pgoutput always sends a Relation message before the first change of a relation in a session.
    if (!relation) throw new Error(`pgoutput: change for unknown relation ${oid}`);
    return relation;
  }
}

function readChange(tag: 'I' | 'U' | 'D', relation: Relation, r: Reader): PgoutputMessage {
  if (tag === 'I') {
    r.byte(); // 'N'
    return { tag: 'insert', relation, new: readTuple(r, relation) };
  }
  if (tag === 'U') {
    const kind = String.fromCharCode(r.byte());
    let old: Tuple | null = null;
    if (kind === 'K' || kind === 'O') {
      old = readOldTuple(r, relation, kind);
      r.byte(); // 'N'
    }
    return { tag: 'update', relation, old, new: readTuple(r, relation, old) };
  }
  return { tag: 'delete', relation, old: readOldTuple(r, relation, String.fromCharCode(r.byte())) };
}

/** 'O': the whole old row (REPLICA IDENTITY FULL); 'K': the key, other columns sent as nulls. */
function readOldTuple(r: Reader, relation: Relation, kind: string): Tuple {
  const tuple = readTuple(r, relation);
  if (kind === 'K') for (const c of relation.columns) if (!c.isKey) delete tuple[c.name];
  return tuple;
}

function readTuple(r: Reader, relation: Relation, previous?: Tuple | null): Tuple {
  const tuple: Tuple = {};
  const count = r.int16();
  for (let i = 0; i < count; i++) {
    const name = relation.columns[i].name;
    const kind = String.fromCharCode(r.byte());
    if (kind === 'n') tuple[name] = null;
    else if (kind === 't') tuple[name] = r.text(r.int32());
    else if (kind === 'u') {
      // Unchanged TOAST value: only known when the old row was sent in full.
      if (previous && name in previous) tuple[name] = previous[name];
    } else throw new Error(`pgoutput: unexpected column kind ${kind}`); // 'b' needs the binary option, never requested
  }
  return tuple;
}
