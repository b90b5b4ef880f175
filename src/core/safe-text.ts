// C0 (newline and tab included: a quoted record must not break or reflow the line), DEL and C1.
// ESC starts CSI/OSC sequences that retitle, clear or recolour a terminal, BEL ends OSC, and C1's
// 0x9b and 0x9d are one-character CSI and OSC on terminals that honour 8-bit controls.
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

/**
 * Untrusted text (records, keys, file names) made safe to print: each control character is shown
 * as `\xHH`. Backslashes are left alone, so the result is for eyes, not for parsing back.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
