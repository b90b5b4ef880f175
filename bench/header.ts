import { DEFAULT_FIELDS } from '../src/core/fields.js';

/** The CSV header the regex variants write (they know only the default format). */
export const HEADER_LINE = `timestamp,${DEFAULT_FIELDS.join(',')}\n`;
