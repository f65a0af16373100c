/** Where the repository and its local, git-ignored state live. Runtime code resolves its own files from here. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The local state of a checkout (the stack's processes, caches, screenshots): `.observatory/`, git-ignored. */
export const STATE_ROOT = join(REPO_ROOT, '.observatory');
