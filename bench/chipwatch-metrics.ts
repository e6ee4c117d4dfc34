// chipwatch's own view of a run, from its Prometheus endpoint: how many batches, how large, and how long their
// commits took — whether the serial commit chain or something before it limits throughput.

export interface IngestCounters {
  batches: number;
  batchMessages: number;
  commitS: number;
}

export interface IngestInternals {
  batches: number;
  meanBatchSize: number;
  meanCommitMs: number;
  /** Sum of commit times over the run's wall time: near 1 means a commit was always running. */
  commitBusy: number;
}

function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : Number.NaN;
}

export async function scrapeIngest(httpUrl: string): Promise<IngestCounters> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  return {
    batches: sample(text, 'chipwatch_ingest_batch_size_count'),
    batchMessages: sample(text, 'chipwatch_ingest_batch_size_sum'),
    commitS: sample(text, 'chipwatch_ingest_commit_seconds_sum'),
  };
}

export function internalsBetween(
  before: IngestCounters,
  after: IngestCounters,
  wallS: number,
): IngestInternals {
  const batches = after.batches - before.batches;
  const commitS = after.commitS - before.commitS;
  return {
    batches,
    meanBatchSize: (after.batchMessages - before.batchMessages) / batches,
    meanCommitMs: (commitS / batches) * 1000,
    commitBusy: commitS / wallS,
  };
}
