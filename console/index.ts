export { startUi, uiLinks } from './start.ts';
export { uiConfig } from './config.ts';
export { buildUi } from './build.ts';
export type { UiConfig } from './config.ts';
export type { UiServer } from './server.ts';
export type { ServiceMap, ServiceNode, ServiceEdge, ServiceStats } from './types.ts';
