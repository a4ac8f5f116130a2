// A replica's places in its owners' streams (issue 10), kept in the member's own database so that
// a replica restarted after a crash is still one a failover may promote (its rows are durable; a
// place kept in memory only went with the process, and a fork whose owner was then lost for good
// had no one left to take it). A place always says exactly what the rows hold:
// - a place is written in the group that applies the changes it counts: the stream's increments
//   are deltas (owner_stream.ts), which must be applied once, so a place behind its rows (a crash
//   between two commits) would apply some twice after a restart;
// - a place is removed in the same group that drops the fork's rows (a snapshot's first chunk),
//   before them: the two commit together or not at all.
import type Database from 'better-sqlite3';
import type { StoreActor } from '../actor/actor.js';

export interface StoredPlace {
  fork: string;
  /** The term whose stream the replica follows. */
  term: number;
  /** The last sequence applied. */
  seq: number;
}

export class ReplicaPlaces {
  private readonly put: Database.Statement;
  private readonly del: Database.Statement;
  private readonly all: Database.Statement;

  constructor(private readonly actor: StoreActor) {
    const db = actor.db.db;
    db.exec('CREATE TABLE IF NOT EXISTS repl_place (fork TEXT PRIMARY KEY, term INTEGER NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID');
    this.put = db.prepare('INSERT INTO repl_place (fork, term, seq) VALUES (?, ?, ?) ON CONFLICT (fork) DO UPDATE SET term = excluded.term, seq = excluded.seq');
    this.del = db.prepare('DELETE FROM repl_place WHERE fork = ?');
    this.all = db.prepare('SELECT fork, term, seq FROM repl_place');
  }

  /** The places stored when this member last ran. */
  load(): StoredPlace[] {
    return this.all.all() as StoredPlace[];
  }

  /** Store the place in the open group (or a new one): the group that applies the changes it counts. */
  save(fork: string, term: number, seq: number): void {
    this.actor.group.begin();
    this.put.run(fork, term, seq);
  }

  /** Forget the place, in the open group (or a new one): before the fork's rows are dropped in that group. */
  remove(fork: string): void {
    this.actor.group.begin();
    this.del.run(fork);
  }
}
