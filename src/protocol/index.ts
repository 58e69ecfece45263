export * from './errors.js';
export * from './closeCodes.js';
export * from './scopes.js';
export * from './limits.js';
export * from './messages.js';
export { resourceProblem, normalizeIdentity, isPlainObject, exceedsDepth } from './validate.js';
export * from './rooms.js';
export * from './methods.js';
export { ERROR_TABLE, toRpcError, closeCodeOf, type ErrorEdges } from './errorTable.js';
