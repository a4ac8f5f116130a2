// A training corpus as word ids, a piece at a time (`build --memory`): each input's pieces of whole
// lines (input_chunks.ts) are checked as UTF-8 and tokenized alone, into one reused id buffer, so
// reading holds one piece's bytes, text and ids however large the corpus is. The ids, the
// vocabulary and the records are those of reading every input whole (model/corpus_read.ts), and
// errors name the input's line, not the piece's.
import fs from 'node:fs';
import { IdStream, readRecords } from '../../model/corpus_read.js';
import type { TokenizerName } from '../../model/tokenizer.js';
import type { Vocab } from '../../model/vocab.js';
import { inputChunks, READ_CHUNK_BYTES } from './input_chunks.js';

export interface CorpusTotals {
  /** Ids read, <s> and </s> included. */
  ids: number;
  sentences: number;
  /** Bytes of the inputs as read (gzipped ones before gunzipping). */
  bytes: number;
}

/**
 * Yields the ids of `files` in pieces of whole records, filling `vocab` and `totals` as it goes.
 * A piece's array is reused for the next one: use it before asking for more.
 */
export async function* corpusPieces(
  files: readonly string[],
  tokenizer: TokenizerName,
  vocab: Vocab,
  totals: CorpusTotals,
  onProgress?: (done: number, total: number) => void,
  chunkBytes = READ_CHUNK_BYTES,
): AsyncGenerator<Int32Array> {
  const sizes = files.map((f) => (f === '-' ? 0 : fs.statSync(f).size));
  const total = sizes.reduce((a, b) => a + b, 0);
  const ids = new IdStream();
  let before = 0;
  for (let i = 0; i < files.length; i++) {
    let read = 0;
    for await (const chunk of inputChunks(files[i]!, chunkBytes)) {
      ids.clear();
      readRecords(chunk.bytes, chunk.name, tokenizer, vocab, ids, chunk.firstLine);
      totals.ids += ids.length;
      totals.sentences += ids.sentences;
      read = chunk.readBytes;
      onProgress?.(before + read, total);
      yield ids.view;
    }
    totals.bytes += read;
    before += sizes[i]!;
  }
}
