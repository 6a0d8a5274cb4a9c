'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { FormError } from '@/components/ui';
import { api, toClientError } from '@/lib/trpc-client';

type Report = Awaited<ReturnType<typeof api.host.import.mutate>>;

const EXAMPLE = `hostname,mac,ipv4,site,subnet,architecture,tags,boot_profile,failure_domain,power_driver
node-01,52:54:00:12:34:01,10.0.0.11,Lab,lab-net,X86_64_UEFI,rack-a;kiosk,default,rack-a,SIMULATED`;

export function ImportForm() {
  const router = useRouter();
  const [csv, setCsv] = useState('');
  const [pending, setPending] = useState(false);
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | undefined>();

  async function run(dryRun: boolean) {
    setPending(true);
    setError(undefined);
    setReport(null);
    try {
      setReport(await api.host.import.mutate({ csv, dryRun }));
      if (!dryRun) router.refresh();
    } catch (err) {
      setError(toClientError(err).message);
    } finally {
      setPending(false);
    }
  }

  return (
    <>
      <form
        className="panel form"
        aria-label="Import hosts"
        onSubmit={(e) => {
          e.preventDefault();
          void run(false);
        }}
      >
        <FormError message={error} />
        <label htmlFor="csv-file">CSV file</label>
        <input
          id="csv-file"
          type="file"
          accept=".csv,text/csv"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void file.text().then(setCsv);
          }}
        />
        <label htmlFor="csv-text">Or paste the rows</label>
        <textarea
          id="csv-text"
          name="csv"
          rows={10}
          className="mono"
          value={csv}
          onChange={(e) => setCsv(e.target.value)}
          placeholder={EXAMPLE}
        />
        <div className="field-hint">
          Columns: hostname, mac and subnet (name or CIDR) are required; ipv4, site, architecture, tags
          (separated by ;), boot_profile, failure_domain and power_driver are optional. A row whose MAC exists
          updates that host.
        </div>
        <div className="form-actions">
          <button type="button" className="btn" disabled={pending || !csv} onClick={() => void run(true)}>
            Check only
          </button>
          <button type="submit" className="btn btn-primary" disabled={pending || !csv}>
            {pending ? 'Importing…' : 'Import'}
          </button>
        </div>
      </form>
      {report ? (
        <section className="panel import-report" aria-label="Import report" data-testid="import-report">
          <h2 className="form-title">{report.dryRun ? 'Check result' : 'Import result'}</h2>
          <p>
            {report.rows} row{report.rows === 1 ? '' : 's'}: <strong>{report.created}</strong>{' '}
            {report.dryRun ? 'to create' : 'created'}, <strong>{report.updated}</strong>{' '}
            {report.dryRun ? 'to update' : 'updated'},{' '}
            <strong className={report.failed ? 'text-danger' : ''}>{report.failed}</strong> with problems
            {report.failed && !report.dryRun ? ' (skipped)' : ''}.
          </p>
          {report.errors.length ? (
            <table className="table table-compact" data-testid="import-errors">
              <thead>
                <tr>
                  <th className="num">Line</th>
                  <th>Column</th>
                  <th>Problem</th>
                </tr>
              </thead>
              <tbody>
                {report.errors.map((e, i) => (
                  <tr key={i}>
                    <td className="num">{e.line}</td>
                    <td className="mono">{e.field}</td>
                    <td>{e.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </section>
      ) : null}
    </>
  );
}
