import { createHash } from 'node:crypto';

/** Errors our scripts raise on purpose start with this; what follows is the message. */
export const SCRIPT_ERROR = 'RELAYCALL ';

/**
 * Key layout under the prefix P (every script gets P as ARGV[1]):
 *   P projects             hash   project id -> ProjectRecord JSON
 *   P secret               string the JWT signing secret
 *   P family:ID            hash   FamilyRecord fields (null fields absent, scopes as JSON)
 *   P family-tokens:ID     set    hashes of the family's refresh tokens
 *   P token:HASH           hash   RefreshTokenRecord fields (rotatedAt absent while current)
 *   P token-expiry         zset   token hash scored by expiresAt (for purging)
 * Scripts build the family and token keys themselves, so Redis Cluster is not supported.
 */
const CREATE_FAMILY = `
local p, fid, th, exp, nf = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local fk, tk = p .. 'family:' .. fid, p .. 'token:' .. th
if redis.call('EXISTS', fk) == 1 then
  return redis.error_reply('${SCRIPT_ERROR}Family ' .. fid .. ' already exists')
end
if redis.call('EXISTS', tk) == 1 then
  return redis.error_reply('${SCRIPT_ERROR}Refresh token hash already exists')
end
redis.call('HSET', fk, unpack(ARGV, 6, 5 + nf))
redis.call('HSET', tk, unpack(ARGV, 6 + nf))
redis.call('ZADD', p .. 'token-expiry', exp, th)
redis.call('SADD', p .. 'family-tokens:' .. fid, th)
return 1
`;

const ROTATE = `
local p, old, now = ARGV[1], ARGV[2], ARGV[3]
local nh, nfid, nexp = ARGV[4], ARGV[5], ARGV[6]
local tk = p .. 'token:' .. old
local t = redis.call('HMGET', tk, 'familyId', 'expiresAt', 'rotatedAt')
if not t[1] or tonumber(t[2]) <= tonumber(now) then return {'invalid'} end
local fk = p .. 'family:' .. t[1]
local family = redis.call('HGETALL', fk)
if #family == 0 or redis.call('HEXISTS', fk, 'revokedAt') == 1 then return {'invalid'} end
if t[3] then return {'reused', family} end
if nfid ~= t[1] then
  return redis.error_reply('${SCRIPT_ERROR}New refresh token belongs to family ' .. nfid ..
    ', not ' .. t[1])
end
local nk = p .. 'token:' .. nh
if redis.call('EXISTS', nk) == 1 then
  return redis.error_reply('${SCRIPT_ERROR}Refresh token hash already exists')
end
redis.call('HSET', tk, 'rotatedAt', now)
redis.call('HSET', nk, unpack(ARGV, 7))
redis.call('ZADD', p .. 'token-expiry', nexp, nh)
redis.call('SADD', p .. 'family-tokens:' .. nfid, nh)
return {'rotated', family}
`;

const REVOKE = `
local fk = ARGV[1] .. 'family:' .. ARGV[2]
if redis.call('EXISTS', fk) == 0 or redis.call('HEXISTS', fk, 'revokedAt') == 1 then
  return 0
end
redis.call('HSET', fk, 'revokedAt', ARGV[3], 'revokedReason', ARGV[4])
return 1
`;

const PURGE = `
local p, now, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local zk = p .. 'token-expiry'
local hashes = redis.call('ZRANGEBYSCORE', zk, '-inf', now, 'LIMIT', 0, limit)
local removed = 0
for _, h in ipairs(hashes) do
  local tk = p .. 'token:' .. h
  local fid = redis.call('HGET', tk, 'familyId')
  removed = removed + redis.call('DEL', tk)
  redis.call('ZREM', zk, h)
  if fid then
    local sk = p .. 'family-tokens:' .. fid
    redis.call('SREM', sk, h)
    if redis.call('SCARD', sk) == 0 then
      removed = removed + redis.call('DEL', p .. 'family:' .. fid)
    end
  end
end
return {#hashes, removed}
`;

export interface Script {
  lua: string;
  sha: string;
}

const script = (lua: string): Script => ({
  lua,
  sha: createHash('sha1').update(lua).digest('hex'),
});

/** The store's scripts, each run by its SHA (see RedisStore). */
export const redisScripts = {
  createFamily: script(CREATE_FAMILY),
  rotate: script(ROTATE),
  revoke: script(REVOKE),
  purge: script(PURGE),
};
