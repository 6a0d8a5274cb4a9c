import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('./bootpt-decode.ts', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

function run(args: string[], input?: string) {
  const res = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', bin, ...args], {
    input,
    encoding: 'utf8',
    timeout: 30_000,
  });
  const lines = res.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: res.status, lines, stderr: res.stderr };
}

describe('bootpt-decode command', () => {
  it('prints one JSON object per packet of a pcap, with addresses and frame numbers', () => {
    const { status, lines } = run([fixture('dhcp-dhclient-dnsmasq.pcap')]);
    expect(status).toBe(0);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.map((l) => l.msgType)).toEqual(expect.arrayContaining([1, 2, 3, 5]));
    expect(lines[0]).toMatchObject({
      frame: expect.any(Number) as number,
      proto: 'bootp',
      dst: expect.stringMatching(/:67$/) as string,
    });
  });

  it('decodes hex from --hex and from standard input, one packet per line, errors included', () => {
    expect(run(['--hex', '000400ff']).lines).toEqual([{ proto: 'tftp', opcode: 'ACK', block: 255 }]);
    const { status, lines } = run(['-'], '000400ff\n0000\n');
    expect(status).toBe(0);
    expect(lines[0]).toEqual({ proto: 'tftp', opcode: 'ACK', block: 255 });
    expect(lines[1]).toMatchObject({ error: { code: 'TFTP_BAD_OPCODE', offset: 0 } });
  });

  it('reports bad arguments and unreadable files with exit codes 2 and 1', () => {
    expect(run(['--proto', 'dns', 'x']).status).toBe(2);
    const missing = run(['/nonexistent/capture.pcap']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('cannot read /nonexistent/capture.pcap');
  });
});
