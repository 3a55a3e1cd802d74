export { loadConfig, parseConfig, registerConfigReader, resolveConfigPath } from './load.js';
export type { ConfigReader, LoadedConfig } from './load.js';
export { parseDuration, parseRate, parseSize } from './units.js';
export { parseListenAddress } from './listen.js';
export { DIRECTORIES as ACME_DIRECTORIES } from './acme.js';
export * from './types.js';
