/** What a feature needs from an optional peer dependency, to say so when it cannot load. */
export interface OptionalPeer {
  /** The feature, as a sentence's subject: 'The SQLite store'. */
  feature: string;
  /** The npm package. */
  pkg: string;
  /** Its supported major version. */
  major: number;
  /** What to do instead: 'use --store memory'. */
  instead: string;
}

/**
 * The error for an optional peer dependency that failed to import: not installed (say how to
 * install it), or installed but broken (say to reinstall it).
 */
export function optionalPeerError(error: unknown, peer: OptionalPeer): Error {
  const { feature, pkg, major, instead } = peer;
  if (isModuleNotFound(error)) {
    return new Error(
      `${feature} needs the ${pkg} package (${major}.x), which is not installed. ` +
        `Run \`npm install ${pkg}@${major}\`, or ${instead}.`,
      { cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new Error(
    `${feature} could not load the ${pkg} package: ${message}. ` +
      `Reinstall it with \`npm install ${pkg}@${major}\`, or ${instead}.`,
    { cause: error },
  );
}

function isModuleNotFound(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return true;
  // Loaders (and test mockers) may wrap the resolution error.
  return depth < 3 && isModuleNotFound(cause, depth + 1);
}
