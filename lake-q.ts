import { readFileSync } from 'node:fs';
import { queryLake, formatTable } from './lake/index.ts';
console.log(formatTable(await queryLake(readFileSync(process.argv[2]!, 'utf8'), { sync: false })));
