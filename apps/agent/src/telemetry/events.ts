/**
 * Boot events buffered in memory for the control plane. A bounded ring: when full, the oldest event
 * is overwritten and counted in `dropped`, so a control plane that is away for hours costs a fixed
 * amount of memory. The sync drains it with `drain()`.
 */

export type BootEventOutcome = 'replied' | 'ignored' | 'dropped' | 'nak' | 'error';

export interface BootEvent {
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly mac: string;
  readonly kind: string;
  readonly messageType: string;
  readonly outcome: BootEventOutcome;
  readonly reason?: string;
  readonly ip?: string;
  readonly bootFile?: string;
  readonly manifest?: string;
  readonly cacheVerdict?: string;
  readonly latencyMs: number;
  readonly relayed: boolean;
}

export interface BootEventSink {
  record(event: BootEvent): void;
}

/** What the control-plane sync drains (and what the daemon reports at shutdown). */
export interface BootEventBuffer extends BootEventSink {
  /** Removes and returns up to `max` events, oldest first. */
  drain(max?: number): BootEvent[];
  readonly length: number;
  /** Events overwritten before anyone drained them, since start. */
  readonly dropped: number;
}

/**
 * Stored column by column: numbers in typed arrays, strings in arrays (mostly constants and strings the
 * site data already holds). Recording a request's event then leaves nothing behind for the garbage
 * collector to copy or promote: the event object the caller built dies young, whatever the ring holds.
 */
export class BootEventRing implements BootEventBuffer {
  private readonly at: Float64Array;
  private readonly latencyMs: Float64Array;
  private readonly relayed: Uint8Array;
  private readonly mac: string[] = [];
  private readonly kind: string[] = [];
  private readonly messageType: string[] = [];
  private readonly outcome: BootEventOutcome[] = [];
  private readonly reason: (string | undefined)[] = [];
  private readonly ip: (string | undefined)[] = [];
  private readonly bootFile: (string | undefined)[] = [];
  private readonly manifest: (string | undefined)[] = [];
  private readonly cacheVerdict: (string | undefined)[] = [];
  private head = 0;
  private size = 0;
  private droppedCount = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.at = new Float64Array(capacity);
    this.latencyMs = new Float64Array(capacity);
    this.relayed = new Uint8Array(capacity);
  }

  record(event: BootEvent): void {
    const i = (this.head + this.size) % this.capacity;
    this.at[i] = event.at;
    this.latencyMs[i] = event.latencyMs;
    this.relayed[i] = event.relayed ? 1 : 0;
    this.mac[i] = event.mac;
    this.kind[i] = event.kind;
    this.messageType[i] = event.messageType;
    this.outcome[i] = event.outcome;
    this.reason[i] = event.reason;
    this.ip[i] = event.ip;
    this.bootFile[i] = event.bootFile;
    this.manifest[i] = event.manifest;
    this.cacheVerdict[i] = event.cacheVerdict;
    if (this.size < this.capacity) {
      this.size++;
    } else {
      this.head = (this.head + 1) % this.capacity;
      this.droppedCount++;
    }
  }

  /** Removes and returns up to `max` events, oldest first. */
  drain(max = this.capacity): BootEvent[] {
    const n = Math.min(max, this.size);
    const out: BootEvent[] = [];
    for (let k = 0; k < n; k++) {
      const i = this.head;
      const event: { -readonly [K in keyof BootEvent]: BootEvent[K] } = {
        at: this.at[i]!,
        mac: this.mac[i]!,
        kind: this.kind[i]!,
        messageType: this.messageType[i]!,
        outcome: this.outcome[i]!,
        latencyMs: this.latencyMs[i]!,
        relayed: this.relayed[i] === 1,
      };
      const reason = this.reason[i];
      const ip = this.ip[i];
      const bootFile = this.bootFile[i];
      const manifest = this.manifest[i];
      const cacheVerdict = this.cacheVerdict[i];
      if (reason !== undefined) event.reason = reason;
      if (ip !== undefined) event.ip = ip;
      if (bootFile !== undefined) event.bootFile = bootFile;
      if (manifest !== undefined) event.manifest = manifest;
      if (cacheVerdict !== undefined) event.cacheVerdict = cacheVerdict;
      out.push(event);
      // Let the strings go (the numbers are overwritten in place).
      this.reason[i] = this.ip[i] = this.bootFile[i] = this.manifest[i] = this.cacheVerdict[i] = undefined;
      this.mac[i] = this.kind[i] = this.messageType[i] = '';
      this.head = (this.head + 1) % this.capacity;
    }
    this.size -= n;
    return out;
  }

  get length(): number {
    return this.size;
  }

  /** Events overwritten before anyone drained them, since start. */
  get dropped(): number {
    return this.droppedCount;
  }
}
