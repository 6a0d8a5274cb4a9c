import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv, toCsv } from './csv';

describe('parseCsv', () => {
  it('parses quoted fields with commas, quotes and line breaks, keeping record start lines', () => {
    const text = 'a,b,c\r\n1,"x, y","say ""hi"""\n2,"multi\nline",\n3,,last\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, y', 'say "hi"'] },
      { line: 3, fields: ['2', 'multi\nline', ''] },
      { line: 5, fields: ['3', '', 'last'] },
    ]);
  });
  it('skips blank lines and a byte-order mark, and reads a last line without a line break', () => {
    expect(parseCsv('\ufeffh\n\nv')).toEqual([
      { line: 1, fields: ['h'] },
      { line: 3, fields: ['v'] },
    ]);
  });
  it('reports unterminated quotes and garbage after a closing quote with the line', () => {
    expect(() => parseCsv('a\n"open')).toThrow(CsvSyntaxError);
    expect(() => parseCsv('a\n"x"y,1')).toThrow(/line 2/);
  });
  it('round-trips what toCsv writes', () => {
    const rows = [
      ['a,b', 'q"uote', 'plain'],
      ['line\nbreak', '', 'x'],
    ];
    const parsed = parseCsv(toCsv(['h1', 'h2', 'h3'], rows));
    expect(parsed.map((r) => r.fields)).toEqual([['h1', 'h2', 'h3'], ...rows]);
  });
  it('neutralises spreadsheet formulas on export', () => {
    expect(toCsv(['h'], [['=cmd()']])).toBe("h\r\n'=cmd()\r\n");
  });
});
