import { defineEvent } from '../schema.ts';

export default defineEvent({
  name: 'user_created',
  version: '1-0-0',
  description: 'A user account was created.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['user_id'],
    properties: {
      user_id: { type: 'string' },
      plan: { type: 'string', description: 'The plan chosen at sign-up, when there was a choice.' },
    },
  },
});
