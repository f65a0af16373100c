import { defineEvent } from '../schema.ts';

export default defineEvent({
  name: 'tile_processed',
  version: '1-0-0',
  description: 'One satellite tile of an NDVI job was processed.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['job_id', 'tile_id', 'date', 'ndvi_mean', 'ndvi_p10', 'ndvi_p90', 'n_pixels'],
    properties: {
      job_id: { type: 'string' },
      tile_id: { type: 'string' },
      date: { type: 'string', format: 'date', description: 'The acquisition date of the tile (YYYY-MM-DD).' },
      ndvi_mean: { type: 'number', minimum: -1, maximum: 1 },
      ndvi_p10: { type: 'number', minimum: -1, maximum: 1 },
      ndvi_p90: { type: 'number', minimum: -1, maximum: 1 },
      n_pixels: { type: 'integer', minimum: 0 },
    },
  },
});
