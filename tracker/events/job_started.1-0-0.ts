import { defineEvent } from '../schema.ts';

export default defineEvent({
  name: 'job_started',
  version: '1-0-0',
  description: 'An ETL job was accepted and split into chunks.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['job_id', 'kind', 'n_chunks'],
    properties: {
      job_id: { type: 'string' },
      kind: { type: 'string', description: 'The job type, e.g. ndvi or compaction.' },
      n_chunks: { type: 'integer', minimum: 0 },
    },
  },
});
