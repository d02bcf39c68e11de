export { parseLdirectordConfig, MAX_RANGE, type LdirectordParseOptions, type LdirectordParseResult } from './parse.js';
export * from './model.js';
export { LdirCode, LDIR_CONFIG_ERROR_EXIT } from './codes.js';
export {
  staticResolver, parseEtcServices, lookupService, builtinServices, BUILTIN_SERVICES_TEXT, type LdirectordResolver, type ServicesTable,
} from './resolve.js';
export { portToService, serviceToPort } from './services.js';
export { findConfigFile, HA_D_DIRS, DEFAULT_CONFIG_NAME } from './lookup.js';
