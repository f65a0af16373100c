import { defineEvent } from '../schema.ts';

export default defineEvent({
  name: 'search_made',
  version: '1-0-0',
  description: 'A user ran a catalog search.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['query', 'n_results', 'user_id'],
    properties: {
      query: { type: 'string', description: 'The search text as typed.' },
      n_results: { type: 'integer', minimum: 0, description: 'How many results the search returned.' },
      user_id: { type: 'string' },
    },
  },
});
