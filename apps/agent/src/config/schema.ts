import { z } from 'zod';
import { contentConfigSchema } from '../content/config.js';
import { tftpConfigSchema } from '../tftp/config.js';

/**
 * The agent's configuration: one JSON file plus `BOOTPT_AGENT_*` environment overrides (see `load.ts`).
 * Validated once at start-up, then frozen; nothing else reads `process.env`.
 */

const port = z.number().int().min(0).max(65535);
const interfaceName = z.string().regex(/^[A-Za-z0-9_.:@-]{1,15}$/, 'not a valid interface name');

const turboKeySchema = z
  .object({
    id: z.number().int().min(0).max(255),
    /** HMAC secret shared by the deployment's agents, hex, at least 16 octets. */
    secret: z.string().regex(/^([0-9a-fA-F]{2}){16,64}$/, 'expected 16-64 octets as hex'),
  })
  .strict();

export const turboConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Site-specific option carrying the Turbo payload (SPEC §3.1). */
    optionCode: z.number().int().min(224).max(254).default(224),
    /** Sustained Turbo offers per second per subnet (token bucket refill). */
    offersPerSecond: z.number().positive().max(100_000).default(500),
    /** Token bucket depth: offers that may go out back to back after a quiet period. */
    burst: z.number().int().positive().max(100_000).default(100),
    /**
     * Longest an offer is held back for pacing. The hold also stays inside the client's offer window
     * (WINDOW field, 1000 ms by default) minus the multi-agent rank delay; pacing beyond it is passed to
     * the client as the offer's PACING (wait before the first transfer) instead.
     */
    maxPacingDelayMs: z.number().int().min(0).max(4000).default(500),
    /** Longest total pacing (hold + PACING) booked; beyond it offers are shed (the client retries). */
    maxBacklogMs: z.number().int().min(0).max(65_535).default(30_000),
    /** Validation-token keys; the first one issues tokens, all verify (rotation). None: verdicts are `unknown`. */
    keys: z.array(turboKeySchema).max(16).default([]),
    /** Epoch length and how many epochs a validation token stays valid (SPEC §6.2). */
    epochMs: z.number().int().min(60_000).default(3_600_000),
    maxTokenAgeEpochs: z.number().int().min(0).max(100_000).default(24),
    /** Multi-agent sharing (SPEC §9): extra offer delay per rendezvous rank, and its cap. */
    rankStepMs: z.number().int().min(0).max(2000).default(200),
    rankMaxDelayMs: z.number().int().min(0).max(2000).default(800),
    /**
     * When this agent's TFTP service is enabled, offer it too (after the site's endpoints): `multicast`
     * and `broadcast` (sbroadcast) for the modes its TFTP grants, then unicast `tftp`, at the agent's
     * address on the client's link. Group endpoints only for clients on a directly attached link.
     */
    advertiseTftp: z.boolean().default(true),
  })
  .strict();

export const responderConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Interfaces to serve. Required unless `loopback` is set: the agent never answers on every interface. */
    interfaces: z.array(interfaceName).default([]),
    /** Demo/test mode: bind 127.0.0.1 only and reply to the sender's address and port. */
    loopback: z.boolean().default(false),
    port: port.default(67),
    clientPort: port.default(68),
    /** Requests with more relay hops than this are dropped (RFC 1542 §4.1.1 allows at most 16). */
    hopLimit: z.number().int().min(0).max(16).default(4),
    /** Act as the PXE boot server: send option 60 `PXEClient` to PXE clients (PROTOCOLS.md §6.5). */
    pxeServer: z.boolean().default(true),
    /** Lease time handed to dynamic-pool DHCP clients when the subnet does not say otherwise. */
    defaultLeaseSeconds: z.number().int().min(60).max(31_536_000).default(3600),
    /** How long an OFFERed address is held for the client before it may go to someone else. */
    offerHoldSeconds: z.number().int().min(1).max(600).default(30),
    /** How long a DECLINEd address stays out of the pool. */
    declineHoldSeconds: z.number().int().min(1).max(86_400).default(600),
    /** Concurrent requests in flight; more are dropped (counted) rather than queued without bound. */
    maxInFlight: z.number().int().min(1).max(100_000).default(1024),
    /**
     * Sockets through the `@bootpt/tftp-native` datagram add-on (recvmmsg, sendto; no node:dgram objects per
     * datagram): `auto` when it loads, `off` never, `required` refuses to start without it.
     */
    nativeSockets: z.enum(['auto', 'off', 'required']).default('auto'),
    turbo: turboConfigSchema.default(turboConfigSchema.parse({})),
  })
  .strict();

export const backendConfigSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('file'), path: z.string().min(1) }).strict(),
]);

export const agentConfigSchema = z
  .object({
    agentId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash and underscore, 1-64 characters')
      .default('agent'),
    /** Directory for state the agent owns (the lease file). Created if missing. */
    dataDir: z.string().min(1).default('./.data/agent'),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .default({ level: 'info' }),
    metrics: z
      .object({
        enabled: z.boolean().default(true),
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(9467),
      })
      .strict()
      .default({ enabled: true, host: '127.0.0.1', port: 9467 }),
    responder: responderConfigSchema.default(responderConfigSchema.parse({})),
    backend: backendConfigSchema,
    tftp: tftpConfigSchema.default(tftpConfigSchema.parse({})),
    content: contentConfigSchema.default(contentConfigSchema.parse({})),
    events: z
      .object({ capacity: z.number().int().min(1).max(1_000_000).default(10_000) })
      .strict()
      .default({ capacity: 10_000 }),
    /** Graceful shutdown: longest to wait for in-flight work before closing sockets anyway. */
    shutdownDrainMs: z.number().int().min(0).max(60_000).default(2000),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    for (const problem of crossFieldProblems(cfg)) ctx.addIssue({ code: 'custom', ...problem });
  });

/**
 * Rules spanning several fields. Also run on raw input by `loadConfig` when the schema fails elsewhere
 * (zod skips refinements then), so the operator still sees every problem in one message.
 */
export function crossFieldProblems(input: unknown): { path: string[]; message: string }[] {
  const responder = (input as { responder?: Record<string, unknown> } | undefined)?.responder ?? {};
  const enabled = responder.enabled !== false;
  const loopback = responder.loopback === true;
  const interfaces = Array.isArray(responder.interfaces) ? (responder.interfaces as unknown[]) : [];
  const out: { path: string[]; message: string }[] = [];
  if (enabled && !loopback && interfaces.length === 0) {
    out.push({
      path: ['responder', 'interfaces'],
      message:
        'no interface named: set responder.interfaces (or BOOTPT_AGENT_INTERFACES); the agent will not answer on every interface',
    });
  }
  if (loopback && interfaces.length > 0) {
    out.push({
      path: ['responder', 'loopback'],
      message: 'loopback mode and responder.interfaces are mutually exclusive',
    });
  }
  if (new Set(interfaces).size !== interfaces.length) {
    out.push({ path: ['responder', 'interfaces'], message: 'interface named twice' });
  }
  return out;
}

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type ResponderConfig = z.infer<typeof responderConfigSchema>;
export type TurboConfig = z.infer<typeof turboConfigSchema>;
