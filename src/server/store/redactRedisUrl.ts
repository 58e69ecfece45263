/**
 * A `redis://` or `rediss://` URL with its password masked, fit for logs and messages (a
 * lone user name is masked too: it may be a password). Any other string comes back as is.
 */
export function redactRedisUrl(url: string): string {
  if (!/^rediss?:\/\//i.test(url)) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    else if (parsed.username) parsed.username = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
