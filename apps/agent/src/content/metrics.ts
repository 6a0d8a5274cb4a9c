import { Counter, Gauge, type Registry } from 'prom-client';
import { ContentError } from './store.js';
import { UpstreamAuthError } from './upstream.js';

/**
 * Content sync metrics (on the agent's registry). Labels are bounded:
 * - `kind`: manifests | indexes | chunks
 * - `reason`: auth (401/403) | upstream (absent, HTTP or network failure) | verify (an object or
 *   manifest refused by verification) | other
 * - `result`: ok | failed
 */
export const SYNC_FAILURE_REASONS = ['auth', 'upstream', 'verify', 'other'] as const;
export type SyncFailureReason = (typeof SYNC_FAILURE_REASONS)[number];

export function failureReason(err: unknown): SyncFailureReason {
  if (err instanceof UpstreamAuthError) return 'auth';
  if (err instanceof ContentError) return err.code === 'CONTENT_ERR_UPSTREAM' ? 'upstream' : 'verify';
  return 'other';
}

export class ContentSyncMetrics {
  readonly objects: Counter<'kind'>;
  readonly bytes: Counter<'kind'>;
  readonly failures: Counter<'reason'>;
  readonly rounds: Counter<'result'>;
  readonly lastSuccess: Gauge;
  readonly manifests: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.objects = new Counter({
      name: 'bootpt_agent_content_sync_objects_total',
      help: 'Objects fetched from the content upstream (each verified on write), by kind',
      labelNames: ['kind'],
      registers,
    });
    this.bytes = new Counter({
      name: 'bootpt_agent_content_sync_bytes_total',
      help: 'Bytes fetched from the content upstream, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.failures = new Counter({
      name: 'bootpt_agent_content_sync_failures_total',
      help: 'Manifest syncs (or whole rounds, for auth and trust failures) that failed, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.rounds = new Counter({
      name: 'bootpt_agent_content_sync_rounds_total',
      help: 'Sync rounds (start, interval, SIGHUP), by result',
      labelNames: ['result'],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'bootpt_agent_content_sync_last_success_seconds',
      help: 'Unix time of the last sync round in which every wanted manifest synced',
      registers,
    });
    this.manifests = new Gauge({
      name: 'bootpt_agent_content_sync_manifests',
      help: 'Manifests wanted in the last sync round',
      registers,
    });
    for (const kind of ['manifests', 'indexes', 'chunks']) {
      this.objects.inc({ kind }, 0);
      this.bytes.inc({ kind }, 0);
    }
    for (const reason of SYNC_FAILURE_REASONS) this.failures.inc({ reason }, 0);
  }
}
