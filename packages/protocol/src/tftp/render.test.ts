import { describe, expect, it } from 'vitest';
import { renderTftpJson } from './render.js';

describe('renderTftpJson', () => {
  it('renders requests with options as an object, first value wins', () => {
    expect(
      renderTftpJson({
        opcode: 'RRQ',
        filename: 'pxelinux.0',
        mode: 'octet',
        options: [
          { name: 'blksize', value: '1468' },
          { name: 'tsize', value: '0' },
          { name: 'blksize', value: '8' },
        ],
      }),
    ).toBe(
      '{"proto":"tftp","opcode":"RRQ","filename":"pxelinux.0","mode":"octet","options":{"blksize":"1468","tsize":"0"}}',
    );
  });

  it('renders each packet type with only its relevant fields', () => {
    expect(renderTftpJson({ opcode: 'DATA', block: 7, data: new Uint8Array(512) })).toBe(
      '{"proto":"tftp","opcode":"DATA","block":7,"dataLength":512}',
    );
    expect(renderTftpJson({ opcode: 'ACK', block: 0 })).toBe('{"proto":"tftp","opcode":"ACK","block":0}');
    expect(renderTftpJson({ opcode: 'ERROR', errorCode: 8, errorMessage: 'User aborted the transfer' })).toBe(
      '{"proto":"tftp","opcode":"ERROR","errorCode":8,"errorMessage":"User aborted the transfer"}',
    );
    expect(
      renderTftpJson({ opcode: 'OACK', options: [{ name: 'multicast', value: '239.1.1.1,1758,1' }] }),
    ).toBe('{"proto":"tftp","opcode":"OACK","options":{"multicast":"239.1.1.1,1758,1"}}');
    expect(renderTftpJson({ opcode: 'BDATA', block: 2, sbid: 17, data: new Uint8Array(3) })).toBe(
      '{"proto":"tftp","opcode":"BDATA","block":2,"sbid":17,"dataLength":3}',
    );
  });

  it('keeps an option called __proto__ as plain data', () => {
    const json = renderTftpJson({ opcode: 'OACK', options: [{ name: '__proto__', value: 'x' }] });
    expect(json).toBe('{"proto":"tftp","opcode":"OACK","options":{"__proto__":"x"}}');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
