import { readdirSync, readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { isObjectErrorCode, OBJECT_ERROR_CODES } from '../../src/core/errors.js';

/**
 * The core is a library: its messages name the limit or the option (maxRecordBytes, the log
 * format), never a command-line flag; the CLI maps FlowhoseError.option to its own flag.
 * Every string and template literal in src/core is checked, comments are not.
 */
const CORE = new URL('../../src/core/', import.meta.url);

function literals(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(new URL(file, CORE), 'utf8'), ts.ScriptTarget.Latest);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) found.push(node.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('src/core speaks no CLI vocabulary', () => {
  const files = readdirSync(CORE).filter((f) => f.endsWith('.ts'));

  it('finds the core files', () => {
    expect(files).toContain('converter.ts');
    expect(literals('log-format.ts').some((text) => text.includes('log format'))).toBe(true);
  });

  it.each(files)('%s names no --flag in a string', (file) => {
    expect(literals(file).filter((text) => /(^|[^-])--[a-z]/.test(text))).toEqual([]);
  });
});

describe('object error codes', () => {
  it('are one list, checkable at run time', () => {
    expect(OBJECT_ERROR_CODES).toContain('RECORD_TOO_LARGE');
    expect(isObjectErrorCode('BAD_JSON')).toBe(true);
    expect(isObjectErrorCode('FIELD_COUNT')).toBe(false); // a record's reject, not an object's failure
    expect(isObjectErrorCode(undefined)).toBe(false);
  });
});
