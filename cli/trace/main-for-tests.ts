/** Runs `observatory trace …` on its own, as main.ts will once the command is wired there (and for tests). */
import { traceCommand } from './index.ts';

process.exitCode = await traceCommand(process.argv.slice(2));
