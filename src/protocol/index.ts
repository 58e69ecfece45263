export * from './errors.js';
export * from './closeCodes.js';
export * from './scopes.js';
export * from './limits.js';
export * from './messages.js';
export { resourceProblem, normalizeIdentity, isPlainObject, exceedsDepth } from './validate.js';
