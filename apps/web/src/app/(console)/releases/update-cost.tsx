import { formatBytes, percent } from '../images/format';

export interface UpdateCostView {
  fromVersion: string;
  fetchBytes: number;
  fetchChunks: number;
  totalBytes: number;
}

/** "x MiB (y %) from 1.0.0": what a host on the previous release downloads to move to this one. */
export function UpdateCost({ update, error }: { update: UpdateCostView | null; error?: string | null }) {
  if (error) {
    return (
      <span className="muted" title={error}>
        unavailable
      </span>
    );
  }
  if (!update) return <span className="muted">first release</span>;
  return (
    <span title={`${update.fetchChunks} chunk(s) to fetch of a ${formatBytes(update.totalBytes)} image`}>
      <strong>{formatBytes(update.fetchBytes)}</strong>{' '}
      <span className="muted small">
        ({percent(update.fetchBytes, update.totalBytes)}) from {update.fromVersion}
      </span>
    </span>
  );
}
