/**
 * The event registry: the version `track()` emits for each event, one file per event and SchemaVer version in this
 * folder. Adding an event is adding its file and its line here (a test fails when a file in this folder is not
 * listed); a new version replaces the line and keeps the old file, which the lake still reads.
 */
import imageDownloaded from './image_downloaded.1-0-0.ts';
import jobFinished from './job_finished.1-0-0.ts';
import jobStarted from './job_started.1-0-0.ts';
import searchMade from './search_made.1-0-0.ts';
import tileProcessed from './tile_processed.1-0-0.ts';
import userCreated from './user_created.1-0-0.ts';

export const EVENTS = {
  search_made: searchMade,
  image_downloaded: imageDownloaded,
  user_created: userCreated,
  job_started: jobStarted,
  job_finished: jobFinished,
  tile_processed: tileProcessed,
} as const;

/** Superseded versions, still read by the lake's compaction (validation and typed columns). */
export const PREVIOUS_VERSIONS = [] as const;
