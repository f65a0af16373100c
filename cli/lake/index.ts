export { lakeCommand, LAKE_USAGE } from './lake.ts';
