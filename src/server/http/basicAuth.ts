/** Credentials of an HTTP Basic Authorization header, or undefined when missing or malformed. */
export function parseBasicAuth(
  header: string | undefined,
): { id: string; token: string } | undefined {
  if (!header) return undefined;
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { id: decoded.slice(0, colon), token: decoded.slice(colon + 1) };
}
