import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/**
 * TFTP metrics, registered on the agent's registry. Labels are bounded: `mode` is unicast | multicast |
 * sbroadcast; `outcome` is complete | probe | error | timeout | aborted; `path` is native | js; `result` is a fixed refusal list.
 *
 * The per-datagram counters are summed in plain fields on the hot path and folded into prom-client when
 * scraped (`collect`), so sending a block costs two additions, not two labelled-counter lookups.
 */
export type TftpMode = 'unicast' | 'multicast' | 'sbroadcast';
export const TFTP_MODES: readonly TftpMode[] = ['unicast', 'multicast', 'sbroadcast'];

export interface SendTally {
  bytes: number;
  packets: number;
  retransmissions: number;
}

export class TftpMetrics {
  /** Hot-path tallies per mode, flushed into the counters on scrape. */
  readonly tally: Record<TftpMode, SendTally> = {
    unicast: { bytes: 0, packets: 0, retransmissions: 0 },
    multicast: { bytes: 0, packets: 0, retransmissions: 0 },
    sbroadcast: { bytes: 0, packets: 0, retransmissions: 0 },
  };

  readonly bytesSent: Counter<'mode'>;
  readonly packetsSent: Counter<'mode'>;
  readonly retransmissions: Counter<'mode'>;
  readonly requests: Counter<'result'>;
  readonly unicastTransfers: Counter<'path'>;
  readonly gsoFallbacks: Counter<'path'>;
  readonly activeTransfers: Gauge<'mode'>;
  readonly activeGroups: Gauge<'mode'>;
  readonly duration: Histogram<'mode' | 'outcome'>;

  constructor(registry: Registry) {
    const flush = (): void => this.flush();
    this.bytesSent = new Counter({
      name: 'bootpt_agent_tftp_bytes_sent_total',
      help: 'UDP payload octets sent by the TFTP service (DATA, BDATA, OACK, ERROR), by mode',
      labelNames: ['mode'] as const,
      registers: [registry],
      collect: flush,
    });
    this.packetsSent = new Counter({
      name: 'bootpt_agent_tftp_packets_sent_total',
      help: 'Datagrams sent by the TFTP service, by mode',
      labelNames: ['mode'] as const,
      registers: [registry],
      collect: flush,
    });
    this.retransmissions = new Counter({
      name: 'bootpt_agent_tftp_retransmissions_total',
      help: 'Timeout-driven retransmissions (of a window, an OACK, or a group window), by mode',
      labelNames: ['mode'] as const,
      registers: [registry],
      collect: flush,
    });
    this.requests = new Counter({
      name: 'bootpt_agent_tftp_requests_total',
      help: 'TFTP requests on the listening port, by result',
      labelNames: ['result'] as const,
      registers: [registry],
    });
    this.unicastTransfers = new Counter({
      name: 'bootpt_agent_tftp_unicast_transfers_total',
      help: 'Unicast read transfers started, by data path (native: the lock-step add-on; js)',
      labelNames: ['path'] as const,
      registers: [registry],
    });
    this.gsoFallbacks = new Counter({
      name: 'bootpt_agent_tftp_gso_fallbacks_total',
      help: 'Unicast transfers that went on datagram by datagram after the kernel refused a UDP GSO send, by data path',
      labelNames: ['path'] as const,
      registers: [registry],
    });
    this.activeTransfers = new Gauge({
      name: 'bootpt_agent_tftp_active_transfers',
      help: 'Clients being served: unicast transfers and group members, by mode',
      labelNames: ['mode'] as const,
      registers: [registry],
    });
    this.activeGroups = new Gauge({
      name: 'bootpt_agent_tftp_active_groups',
      help: 'Running group transfers (multicast or subnet broadcast), by mode',
      labelNames: ['mode'] as const,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'bootpt_agent_tftp_transfer_duration_seconds',
      help: 'Time from request to the end of a client transfer, by mode and outcome',
      labelNames: ['mode', 'outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    });
    for (const mode of TFTP_MODES) {
      this.activeTransfers.set({ mode }, 0);
      if (mode !== 'unicast') this.activeGroups.set({ mode }, 0);
    }
    for (const path of ['native', 'js']) this.gsoFallbacks.inc({ path }, 0);
  }

  private flush(): void {
    for (const mode of TFTP_MODES) {
      const t = this.tally[mode];
      if (t.bytes) this.bytesSent.inc({ mode }, t.bytes);
      if (t.packets) this.packetsSent.inc({ mode }, t.packets);
      if (t.retransmissions) this.retransmissions.inc({ mode }, t.retransmissions);
      t.bytes = 0;
      t.packets = 0;
      t.retransmissions = 0;
    }
  }
}
