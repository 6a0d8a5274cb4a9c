/** The phases a boot reports, in order (issue 7: discover, offer, manifest, transfer, verify, boot). */
export const PHASES = ['discover', 'offer', 'manifest', 'transfer', 'verify', 'boot'] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseSpan {
  readonly phase: Phase;
  /** Milliseconds since the client started. */
  readonly startMs: number;
  readonly durationMs: number;
}

/** Records phase spans against one monotonic clock; a phase never entered is simply absent. */
export class Timeline {
  private readonly spans: PhaseSpan[] = [];
  private readonly origin: number;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.origin = now();
  }

  elapsed(): number {
    return this.now() - this.origin;
  }

  async measure<T>(phase: Phase, work: () => Promise<T>): Promise<T> {
    const start = this.now();
    try {
      return await work();
    } finally {
      this.spans.push({ phase, startMs: round(start - this.origin), durationMs: round(this.now() - start) });
    }
  }

  /** Records a span measured elsewhere (`start` on this timeline's clock). */
  add(phase: Phase, start: number, end: number): void {
    this.spans.push({ phase, startMs: round(start - this.origin), durationMs: round(end - start) });
  }

  toJSON(): PhaseSpan[] {
    return [...this.spans];
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
