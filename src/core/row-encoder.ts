import type { FlowFormat } from './log-format.js';
import type { RecordProblem, RecordView } from './record-view.js';

/**
 * Writes accepted records in one output format. The converter has already tokenised and
 * validated each record (RecordView), so an encoder never sees a reject and never writes half a
 * row. It buffers and hands its output on in slices of about `chunkBytes`, never one per row.
 */
export interface RowEncoder {
  /** Called once, before the first row, also when no record follows (an empty input has a header). */
  header(format: FlowFormat): void;
  /**
   * Optional, called before each record is read: lends `record` room in the encoder's own buffer
   * for its image (RecordView.lend), for an encoder whose output holds those bytes as they are
   * (CSV), so that they are copied once. A record that is then rejected leaves nothing behind:
   * the encoder only keeps what row() accepts.
   */
  lend?(record: RecordView, recordBytes: number, fieldCount: number): void;
  /**
   * Optional, called for each record the view accepted, before row(): why this encoder cannot hold it
   * (a typed format whose INT32 column cannot take `srcport 99999999999`, see columns.ts
   * rangeProblem). The converter then rejects the record as it rejects any other, and row() never
   * sees it. CSV holds any digits, so it has no check.
   */
  check?(record: RecordView): RecordProblem | undefined;
  /** Writes one accepted record; `record` is valid only during the call, and row() may overwrite its image. */
  row(record: RecordView): void;
  /** At the end of the input: hands on whatever is buffered. */
  flush(): void;
}

/** How the converter makes its encoder; `onData` owns each chunk it is given. */
export type CreateRowEncoder = (onData: (chunk: Buffer) => void, chunkBytes: number) => RowEncoder;

/**
 * An encoder that also takes whole CSV rows written elsewhere (the WebAssembly fast path writes rows
 * itself): the CSV encoder, and a partition router over CSV encoders, which routes each row.
 */
export interface CsvRowsEncoder extends RowEncoder {
  /** Whole rows (`time,field,…\n` each), copied: the caller may reuse `rows` once this returns. */
  writeBytes(rows: Uint8Array): void;
}

export const takesCsvRows = (encoder: RowEncoder): encoder is CsvRowsEncoder =>
  typeof (encoder as Partial<CsvRowsEncoder>).writeBytes === 'function';
