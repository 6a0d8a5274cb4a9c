import { z } from 'zod';

/**
 * The `tftp` section of the agent's configuration (wired into `config/schema.ts`). Off by default; when on,
 * it serves `root` read-only on the named interfaces (or 127.0.0.1 in loopback mode).
 */

const port = z.number().int().min(0).max(65535);
const interfaceName = z.string().regex(/^[A-Za-z0-9_.:@-]{1,15}$/, 'not a valid interface name');
const ipv4 = z.string().regex(/^(\d{1,3})(\.\d{1,3}){3}$/, 'expected a dotted IPv4 address');

/** Per-client quirks (PROTOCOLS.md §6.3): options never granted to clients in `cidr`. */
const quirkSchema = z
  .object({
    cidr: z.string().regex(/^(\d{1,3})(\.\d{1,3}){3}\/\d{1,2}$/, 'expected a.b.c.d/len'),
    refuse: z.array(z.string().min(1).max(32)).max(16).default([]),
    maxBlksize: z.number().int().min(8).max(65464).optional(),
  })
  .strict();

export const tftpConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Directory served (the jail). Files outside it, symlinks leaving it and non-regular files are refused. */
    root: z.string().min(1).default('./.data/tftp'),
    /** Interfaces to serve on (one socket bound to each interface's IPv4 address). */
    interfaces: z.array(interfaceName).default([]),
    /** Test/demo mode: bind 127.0.0.1 only. */
    loopback: z.boolean().default(false),
    port: port.default(69),
    /** Concurrent unicast transfers plus group members; an RRQ beyond it gets ERROR 0 "server busy". */
    maxTransfers: z.number().int().min(1).max(100_000).default(512),
    /**
     * Largest blksize granted. Unset: the interface's path MTU minus 32 (1468 on Ethernet), so DATA is never
     * IP-fragmented; set it (up to 65464) for clients known to reassemble fragments.
     */
    maxBlksize: z.number().int().min(8).max(65464).optional(),
    /**
     * Largest blksize granted to multicast and sbroadcast members (a client still has to ask for it). Group
     * members share one L2 segment with the agent, where IP fragments are reassembled, and a member pays its
     * per-datagram cost once per block: 8192 (six fragments on Ethernet) halves the CPU of a 32-client storm
     * against 1468. Lower it where fragments are dropped; per-client quirks still apply.
     */
    groupMaxBlksize: z.number().int().min(8).max(65464).default(8192),
    maxWindowsize: z.number().int().min(1).max(256).default(64),
    /**
     * Payload octets one unicast window may put in flight: the windowsize granted is lowered (RFC 7440 lets the
     * server grant less) so blksize × windowsize stays within it. A window arrives as one burst; at 8192 each
     * block is six IP fragments and costs the client ~13 KiB of receive buffer, so 32 of them overflow Linux's
     * default 208 KiB and the transfer stalls in timeouts. 64 KiB keeps every window under it.
     */
    maxWindowBytes: z
      .number()
      .int()
      .min(512)
      .max(16 * 1024 * 1024)
      .default(64 * 1024),
    /** Retransmission: first timeout, doubled per retry up to the cap; give up after maxRetries. */
    retry: z
      .object({
        timeoutMs: z.number().int().min(10).max(255_000).default(1000),
        maxTimeoutMs: z.number().int().min(10).max(255_000).default(8000),
        maxRetries: z.number().int().min(0).max(100).default(6),
      })
      .strict()
      .default({ timeoutMs: 1000, maxTimeoutMs: 8000, maxRetries: 6 }),
    /** RFC 2347 options offered at all (a client still has to ask). */
    options: z
      .object({
        blksize: z.boolean().default(true),
        timeout: z.boolean().default(true),
        tsize: z.boolean().default(true),
        windowsize: z.boolean().default(true),
        multicast: z.boolean().default(true),
        sbroadcast: z.boolean().default(true),
      })
      .strict()
      .default({
        blksize: true,
        timeout: true,
        tsize: true,
        windowsize: true,
        multicast: true,
        sbroadcast: true,
      }),
    netascii: z.boolean().default(true),
    /**
     * Path leniency, both off (refused with ERROR 2): Windows boot programs send `\boot\x64\…`,
     * some PXE configurations `/pxelinux.0`. On: backslashes become slashes / a leading slash means the root.
     */
    paths: z
      .object({
        translateBackslashes: z.boolean().default(false),
        stripLeadingSlash: z.boolean().default(false),
      })
      .strict()
      .default({ translateBackslashes: false, stripLeadingSlash: false }),
    /**
     * Leave `tsize` out of the OACK for an empty file: curl (7.x/8.x) rejects `tsize 0` as invalid and aborts.
     * Omitting an option is always allowed (RFC 2347); the client then just reads to the short block.
     */
    omitZeroTsize: z.boolean().default(true),
    quirks: z.array(quirkSchema).max(256).default([]),
    /** RFC 2090 groups: addresses handed out from [first, last], one per running group. */
    multicast: z
      .object({
        first: ipv4.default('239.255.215.1'),
        last: ipv4.default('239.255.215.254'),
        port: port.default(1758),
        ttl: z.number().int().min(1).max(32).default(1),
      })
      .strict()
      .default({ first: '239.255.215.1', last: '239.255.215.254', port: 1758, ttl: 1 }),
    /** IBM subnet-directed broadcast: BDATA to the client's subnet broadcast address on this port. */
    sbroadcast: z
      .object({ port: port.default(247) })
      .strict()
      .default({ port: 247 }),
    maxGroups: z.number().int().min(1).max(4096).default(64),
    /**
     * Group transfers: blocks kept in flight for a master that did not ask for `windowsize` (RFC 2090
     * clients ACK every block). Never announced to the client. 1 = strict lock-step, the default: with atftp
     * masters 8 made the storm slower and put more on the wire (storm bench), so it stays opt-in.
     */
    groupPipelineWindow: z.number().int().min(1).max(64).default(1),
    /**
     * Unicast DATA phase (lock-step and windows) in the `@bootpt/tftp-native` add-on instead of JS: `auto`
     * uses it when it loads, `off` never, `required` refuses to start without it (README "Native lock-step").
     */
    nativeFastPath: z.enum(['auto', 'off', 'required']).default('auto'),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.enabled && !cfg.loopback && cfg.interfaces.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['interfaces'],
        message: 'no interface named: set tftp.interfaces (or tftp.loopback for tests)',
      });
    }
    if (cfg.loopback && cfg.interfaces.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['loopback'],
        message: 'tftp.loopback and tftp.interfaces are mutually exclusive',
      });
    }
    if (cfg.retry.maxTimeoutMs < cfg.retry.timeoutMs) {
      ctx.addIssue({ code: 'custom', path: ['retry', 'maxTimeoutMs'], message: 'below retry.timeoutMs' });
    }
  });

export type TftpConfig = z.infer<typeof tftpConfigSchema>;
