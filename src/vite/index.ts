export { relaycall, DEV_TOKEN_PATH } from './relaycall.js';
export type { RelaycallPluginOptions } from './relaycall.js';
