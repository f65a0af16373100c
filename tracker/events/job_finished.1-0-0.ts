import { defineEvent } from '../schema.ts';

export default defineEvent({
  name: 'job_finished',
  version: '1-0-0',
  description: 'An ETL job ended: every chunk processed, some failed, or the job failed.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['job_id', 'kind', 'status', 'n_chunks', 'n_failed', 'duration_ms', 'cost_usd'],
    properties: {
      job_id: { type: 'string' },
      kind: { type: 'string' },
      status: { type: 'string', enum: ['done', 'partial', 'failed'] },
      n_chunks: { type: 'integer', minimum: 0 },
      n_failed: { type: 'integer', minimum: 0 },
      duration_ms: { type: 'number', minimum: 0 },
      cost_usd: { type: 'number', minimum: 0, description: 'Estimated, from billed GB-seconds.' },
    },
  },
});
