import { z } from 'zod';
import type { BootEventSink } from '../telemetry/events.js';

/**
 * Boot reports posted by Turbo clients (`POST /v1/reports`): the timeline and bytes moved. Each becomes
 * a boot event in the agent's ring (what the control-plane sync drains) and is kept whole in a small
 * bounded buffer for inspection and tests.
 */

const phase = z.object({
  phase: z.enum(['discover', 'offer', 'manifest', 'transfer', 'verify', 'boot']),
  startMs: z.number().min(0),
  durationMs: z.number().min(0),
});

export const clientReportSchema = z.object({
  mac: z.string().max(64),
  manifestDigest: z.string().regex(/^[0-9a-f]{64}$/),
  verdict: z.enum(['unknown', 'valid', 'stale']),
  outcome: z.enum(['booted', 'failed']),
  decision: z.enum(['cache', 'update']).optional(),
  bytes: z.record(z.string(), z.number().int().min(0)).optional(),
  chunks: z.record(z.string(), z.number().int().min(0)).optional(),
  totalMs: z.number().min(0).optional(),
  error: z.object({ code: z.string().max(64), message: z.string().max(2000) }).optional(),
  /** Boot files fetched by a TFTP group stream (multicast or sbroadcast), when the client used one. */
  delivery: z
    .object({
      endpoint: z.enum(['multicast', 'broadcast']),
      endpointId: z.number().int().min(0).max(65535),
      address: z.string().max(64),
      files: z.number().int().min(0),
      bytes: z.number().int().min(0),
      wireRead: z.number().int().min(0),
      wireWritten: z.number().int().min(0),
      chunks: z.number().int().min(0),
      ms: z.number().min(0),
      fallback: z.string().max(500).optional(),
    })
    .optional(),
  timeline: z.array(phase).max(32),
});

export type ClientReport = z.infer<typeof clientReportSchema> & {
  readonly receivedAt: number;
  readonly from: string;
};

export class ReportBuffer {
  private readonly items: ClientReport[] = [];

  constructor(
    private readonly capacity: number,
    private readonly events?: BootEventSink,
  ) {}

  record(report: ClientReport): void {
    this.items.push(report);
    if (this.items.length > this.capacity) this.items.shift();
    this.events?.record({
      at: report.receivedAt,
      mac: report.mac,
      kind: 'turbo-client',
      messageType: 'boot-report',
      outcome: report.outcome === 'booted' ? 'replied' : 'error',
      ...(report.error ? { reason: report.error.code } : {}),
      manifest: report.manifestDigest,
      cacheVerdict: report.verdict,
      latencyMs: report.totalMs ?? 0,
      relayed: false,
    });
  }

  list(): readonly ClientReport[] {
    return [...this.items];
  }
}
