// Tests poll with the project's one helper (common/poll.ts): a deadline, a message naming what was awaited.
export { pollUntil } from '../../common/poll.ts';
