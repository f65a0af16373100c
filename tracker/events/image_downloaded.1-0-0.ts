import { defineEvent } from '../schema.ts';

export default defineEvent({
  name: 'image_downloaded',
  version: '1-0-0',
  description: 'A user downloaded an image.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['user_id', 'img_id', 'image_size'],
    properties: {
      user_id: { type: 'string' },
      img_id: { type: 'string' },
      image_size: { type: 'integer', minimum: 0, description: 'Bytes.' },
    },
  },
});
