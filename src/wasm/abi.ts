// The interface between payload-to-csv.wasm and its host (src/core/wasm-framer.ts), written once:
// AssemblyScript compiles this file into the module and tsc into the host, so both sides read the
// same numbers. Keep to what both compilers read alike: integer constants and plain integer
// functions (tsc reads AssemblyScript's i32 and u8 as numbers, see portable.d.ts). The module
// exports the constants as globals; test/core/wasm-abi.test.ts checks them and every export
// against the host's list (interface.ts), so a stale or drifted build fails there.

/** Why run() stopped. */
export const NEED_MORE = 0;
export const DECLINED = 1;
export const OUTPUT_FULL = 2;
export const NOT_AN_OBJECT = 3;
export const TOO_LARGE_PENDING = 4;
export const TOO_LARGE_COMPLETE = 5;
/** Nested deeper than MAX_NESTING_DEPTH: BAD_JSON at the bracket. */
export const TOO_DEEP = 6;

/** Levels of `{`/`[` a payload may nest (its own `{` is level 1), for the module and JsonFramer alike. */
export const MAX_NESTING_DEPTH = 512;

/** Fields per format the module converts (the int mask it holds); wider formats take the TypeScript path. */
export const MAX_FIELDS = 256;

// The class of a byte in a flow record; a token's flags are the OR of its bytes' classes.
export const NOT_DIGIT: u8 = 1;
/** `,` and `"`: a CSV field holding one is quoted. */
export const NEEDS_QUOTES: u8 = 2;
/** Space, tab, LF, VT, FF, CR: AWS separates fields by spaces, but runs of any of them occur. */
export const SPACE: u8 = 4;

/** SPACE for a separator, 0 for a digit, NOT_DIGIT (with NEEDS_QUOTES for `,` and `"`) otherwise. */
export function byteClass(c: i32): u8 {
  if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return SPACE;
  if (c >= 0x30 && c <= 0x39) return 0;
  if (c === 0x2c || c === 0x22) return NOT_DIGIT | NEEDS_QUOTES;
  return NOT_DIGIT;
}
