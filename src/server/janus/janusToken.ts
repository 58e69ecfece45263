import { createHmac } from 'node:crypto';

/**
 * A Janus signed token (token_auth_secret) valid until `expiresAtMs`, for `plugins` (full names
 * like 'janus.plugin.videoroom').
 *
 * The format is Janus's: `expiry,janus,plugin1[,plugin2]:signature`, where expiry is in unix
 * seconds and signature is base64(HMAC-SHA1(secret, "expiry,janus,plugins")). Janus accepts it
 * until the second `expiry` has passed, and lets it attach only the plugins it names.
 *
 * @param secret Janus's `token_auth_secret` (janus.jcfg, general section).
 * @param expiresAtMs When the token stops working, in ms since the epoch (rounded down to the second).
 * @param plugins Plugins the token may attach, e.g. `['janus.plugin.videoroom']`.
 */
export function janusToken(
  secret: string,
  expiresAtMs: number,
  plugins: readonly string[],
): string {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new TypeError(
      "janusToken: the secret is empty. Pass Janus's token_auth_secret (janus.jcfg, general section).",
    );
  }
  if (!Number.isFinite(expiresAtMs) || expiresAtMs < 0) {
    throw new TypeError(
      `janusToken: expiresAtMs ${String(expiresAtMs)} is not a time. Pass ms since the epoch, ` +
        'e.g. Date.now() + 3_600_000.',
    );
  }
  for (const plugin of plugins) {
    // Janus splits the token on ',' and ':', so either in a name would forge another layout.
    if (typeof plugin !== 'string' || plugin.length === 0 || /[,:]/.test(plugin)) {
      throw new TypeError(
        `janusToken: plugin name ${JSON.stringify(plugin)} is not valid. Pass full plugin names ` +
          "without ',' or ':', e.g. 'janus.plugin.videoroom'.",
      );
    }
  }
  const data = [String(Math.floor(expiresAtMs / 1000)), 'janus', ...plugins].join(',');
  const signature = createHmac('sha1', Buffer.from(secret, 'utf8'))
    .update(Buffer.from(data, 'utf8'))
    .digest('base64');
  return `${data}:${signature}`;
}
