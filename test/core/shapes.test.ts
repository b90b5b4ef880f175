import { describe, expect, it } from 'vitest';
import { parseLogFormat } from '../../src/core/log-format.js';
import { AWS_DOC_RECORD, CONTROL_PAYLOAD, convert, dataPayload, HEADER_V2 } from '../helpers.js';

const R1 = AWS_DOC_RECORD;
const R2 =
  '2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK';
const ROW1 =
  '2014-12-14T04:06:50.000Z,2,123456789010,eni-1235b8ca123456789,172.31.16.139,172.31.16.21,20641,22,6,20,4249,1418530010,1418530070,ACCEPT,OK';
const ROW2 =
  '2014-12-14T04:06:50.000Z,2,123456789010,eni-1235b8ca123456789,172.31.9.69,172.31.9.12,49761,3389,6,20,4249,1418530010,1418530070,REJECT,OK';
const expected = (...rows: string[]) => `${HEADER_V2}\n${rows.map((r) => `${r}\n`).join('')}`;

describe('framings', () => {
  const p1 = dataPayload([{ message: R1 }]);
  const p2 = dataPayload([{ message: R2 }]);

  it('concatenated payloads {…}{…} (the Firehose default)', () => {
    expect(convert(p1 + p2).csv).toBe(expected(ROW1, ROW2));
  });

  it('payloads separated by newlines (AppendDelimiterToRecord), CRLF and blank lines too', () => {
    expect(convert(`${p1}\n${p2}\n`).csv).toBe(expected(ROW1, ROW2));
    expect(convert(`\r\n ${p1}\r\n\r\n${p2}\t`).csv).toBe(expected(ROW1, ROW2));
  });

  it('{"message":…} lines (flow logs sent straight to Firehose) take the timestamp from start', () => {
    const lines = `${JSON.stringify({ message: R1 })}\n${JSON.stringify({ message: R2 })}\n`;
    expect(convert(lines).csv).toBe(expected(ROW1, ROW2));
  });

  it('raw flow lines (Firehose message extraction, the Lambda blueprint)', () => {
    expect(convert(`${R1}\n${R2}\n`).csv).toBe(expected(ROW1, ROW2));
    expect(convert(`${R1}\n${R2}`).csv).toBe(expected(ROW1, ROW2)); // no final LF
  });

  it('a text file with a header line, and the header repeated where files were concatenated', () => {
    const header =
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
    expect(convert(`${header}\n${R1}\n${header}\n${R2}\n`).csv).toBe(expected(ROW1, ROW2));
  });

  it('a header with underscores and a byte-order mark still names the AWS fields', () => {
    const result = convert(`\uFEFFversion account_id srcaddr\n2 0123 10.0.0.1\n`);
    expect(result.csv).toBe('timestamp,version,account-id,srcaddr\n,2,0123,10.0.0.1\n');
  });

  it('records whose values look like names are not taken for a header', () => {
    const format = parseLogFormat('${vpc-id} ${subnet-id} ${instance-id}');
    const result = convert('vpc-0abc subnet-0def i-0123\n', format);
    expect(result.csv).toBe('timestamp,vpc-id,subnet-id,instance-id\n,vpc-0abc,subnet-0def,i-0123\n');
  });

  it('empty input and input of only white space give a header-only CSV', () => {
    expect(convert('').csv).toBe(`${HEADER_V2}\n`);
    expect(convert(' \n\n').csv).toBe(`${HEADER_V2}\n`);
  });
});

describe('CloudWatch Logs payloads', () => {
  it('CONTROL_MESSAGE payloads give no row and are counted', () => {
    const result = convert(CONTROL_PAYLOAD + dataPayload([{ message: R1 }]) + CONTROL_PAYLOAD);
    expect(result.csv).toBe(expected(ROW1));
    expect(result.stats.control).toBe(2);
    expect(result.stats.rows).toBe(1);
  });

  it('keys in any order, extra keys (policyLevel, extractedFields, nested values) ignored', () => {
    const payload = JSON.stringify({
      logEvents: [
        {
          extractedFields: { srcaddr: '1.2.3.4', list: [1, { a: [] }] },
          message: R1,
          timestamp: 1418530010000,
          id: '1',
        },
      ],
      policyLevel: 'ACCOUNT_LEVEL_POLICY',
      owner: '123456789010',
      weird: [true, false, null, -1.5e3, 'x'],
      messageType: 'DATA_MESSAGE',
    });
    expect(convert(payload).csv).toBe(expected(ROW1));
  });

  it('timestamp as a string, milliseconds kept, a 56-digit event id left alone', () => {
    const payload = dataPayload([
      {
        message: R1,
        timestamp: '1580517578123',
        id: '31953106606966983378809025079804211143289615424298221568',
      },
    ]);
    expect(convert(payload).csv.split('\n')[1]!.startsWith('2020-02-01T00:39:38.123Z,')).toBe(true);
  });

  it('JSON escapes in messages are decoded exactly: \\" \\\\ \\/ \\t \\uXXXX and surrogate pairs', () => {
    const format = parseLogFormat('a b c d e');
    const raw = String.raw`{"messageType":"DATA_MESSAGE","logEvents":[{"timestamp":0,"message":"say\"hi\" back\\slash a\/b caf\u00e9\tsmile\ud83d\ude00"}]}`;
    const result = convert(raw, format);
    expect(result.error).toBeUndefined();
    expect(result.csv.split('\n')[1]).toBe(
      '1970-01-01T00:00:00.000Z,"say""hi""",back\\slash,a/b,café,smile😀',
    );
  });

  it('multi-byte UTF-8 passes through unchanged', () => {
    const format = parseLogFormat('a b');
    expect(convert(dataPayload([{ message: 'zürich 東京' }]), format).csv.split('\n')[1]).toBe(
      '2014-12-14T04:06:50.000Z,zürich,東京',
    );
  });

  it('an empty logEvents array gives no rows', () => {
    expect(convert(dataPayload([])).csv).toBe(`${HEADER_V2}\n`);
  });
});

describe('CSV encoding', () => {
  it('- becomes an empty field; fields with , or " are quoted RFC 4180 style', () => {
    const format = parseLogFormat('a b c d');
    expect(convert(dataPayload([{ message: '- x,y say"so" -' }]), format).csv.split('\n')[1]).toBe(
      '2014-12-14T04:06:50.000Z,,"x,y","say""so""",',
    );
  });

  it('splits on runs of white space (AWS examples contain double spaces) and tabs', () => {
    const doubled = R1.replace(' ACCEPT', '  ACCEPT').replace('2 ', '2\t ');
    expect(convert(dataPayload([{ message: ` ${doubled} ` }])).csv).toBe(expected(ROW1));
  });

  it('starts in milliseconds are recognised when there is no envelope', () => {
    const format = parseLogFormat('start end');
    expect(convert('1418530010123 1418530070000\n', format).csv).toBe(
      'timestamp,start,end\n2014-12-14T04:06:50.123Z,1418530010123,1418530070000\n',
    );
  });

  it('no start field and no envelope: the timestamp column is empty', () => {
    const format = parseLogFormat('srcaddr dstaddr');
    expect(convert('1.1.1.1 2.2.2.2\n', format).csv).toBe('timestamp,srcaddr,dstaddr\n,1.1.1.1,2.2.2.2\n');
  });

  it('account-id keeps its leading zeros and `unknown`', () => {
    const format = parseLogFormat('account-id');
    expect(convert('000123\nunknown\n', format).csv).toBe('timestamp,account-id\n,000123\n,unknown\n');
  });

  it('the header quotes unknown field names only when it must', () => {
    expect(convert('', parseLogFormat('version new_field')).csv).toBe('timestamp,version,new-field\n');
  });
});

describe('timestamps', () => {
  it('match Date#toISOString across days, leap days, epochs and far years, in any order', () => {
    const format = parseLogFormat('a');
    const times = [
      0, 1, 999, 1000, 86_399_999, 86_400_000, 951_782_400_000, 951_868_799_999, 1_580_517_578_123,
      4_102_444_800_000, 253_402_300_799_999, 1_418_530_010_000, 5,
    ];
    const result = convert(dataPayload(times.map((timestamp) => ({ message: 'x', timestamp }))), format);
    expect(result.csv.trimEnd().split('\n').slice(1)).toEqual(
      times.map((t) => `${new Date(t).toISOString()},x`),
    );
  });

  it('a random sample of epoch milliseconds agrees with Date', () => {
    const format = parseLogFormat('a');
    const times = Array.from({ length: 500 }, (_, i) => Math.floor(((i * 7919) % 1000) * 4_102_444_800 + i));
    const result = convert(dataPayload(times.map((timestamp) => ({ message: 'x', timestamp }))), format);
    expect(result.csv.trimEnd().split('\n').slice(1)).toEqual(
      times.map((t) => `${new Date(t).toISOString()},x`),
    );
  });
});
