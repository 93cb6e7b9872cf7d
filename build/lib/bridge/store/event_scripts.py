"""The event ledger's Lua scripts: each runs atomically in Redis, in one round trip.

RECORD: record an accepted delivery, index it and put it on the outbox, unless known.
MARK: move an event to another status (indexes, parked set, outbox, counters, attempts).
RESEND: put a ref left in the relay's in-flight list back on the outbox.
TRIM: drop index entries whose record expired (and final records that have no TTL).
"""

# KEYS: event, all index, status index, outbox, received counter, metric names, dup counter.
# ARGV: ref, score, status, received label field, duplicate label field, provider,
#       provider id, topic, received at (ISO), received at (s), headers JSON, raw body.
# The field names live here rather than in ARGV: fewer arguments to send on the hot path.
RECORD = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HINCRBY', KEYS[7], ARGV[5], 1)
  redis.call('SADD', KEYS[6], 'counter:bridge_events_duplicate_total')
  return 0
end
redis.call('HSET', KEYS[1], 'ref', ARGV[1], 'provider', ARGV[6], 'provider_id', ARGV[7],
  'topic', ARGV[8], 'status', ARGV[3], 'received_at', ARGV[9], 'updated_at', ARGV[9],
  'queued_at', ARGV[10], 'score', ARGV[2], 'error', '', 'headers', ARGV[11], 'body', ARGV[12])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
if ARGV[3] == 'queued' then redis.call('LPUSH', KEYS[4], ARGV[1]) end
redis.call('HINCRBY', KEYS[5], ARGV[4], 1)
redis.call('SADD', KEYS[6], 'counter:bridge_events_received_total')
return 1
"""

# KEYS: event, attempts, parked, outbox, processed counter, metric names, 6 status indexes.
# ARGV: ref, new status, now iso, now s, error, due s, requeue, metric field,
#       allowed current statuses (comma list, '' = any), attempt mode, attempt json, task id,
#       worker hostname, worker boot id (of a move to processing), required worker boot id
#       ('' = any), retention ms (of a move to processed/ignored).
MARK = """
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {-1, ''} end
if ARGV[9] ~= '' and not string.find(',' .. ARGV[9] .. ',', ',' .. cur .. ',', 1, true) then
  return {0, cur}
end
if ARGV[15] ~= '' and redis.call('HGET', KEYS[1], 'worker_boot') ~= ARGV[15] then
  -- re-sending an orphan: another worker has taken the event since it was seen orphaned
  return {0, cur}
end
local names = {'queued', 'processing', 'parked', 'processed', 'ignored', 'failed'}
local idx = {}
for i, name in ipairs(names) do idx[name] = KEYS[6 + i] end
local score = redis.call('HGET', KEYS[1], 'score')
redis.call('ZREM', idx[cur], ARGV[1])
redis.call('ZADD', idx[ARGV[2]], score, ARGV[1])
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'updated_at', ARGV[3], 'error', ARGV[5])
if ARGV[2] == 'parked' then
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
  redis.call('HSET', KEYS[1], 'due', ARGV[6])
else
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('HDEL', KEYS[1], 'due')
end
if ARGV[7] == '1' then
  redis.call('LPUSH', KEYS[4], ARGV[1])
  redis.call('HSET', KEYS[1], 'queued_at', ARGV[4])
elseif ARGV[2] == 'queued' then
  -- waiting for a Celery retry: not stale before it is due
  redis.call('HSET', KEYS[1], 'queued_at', ARGV[6])
elseif ARGV[2] == 'processing' then
  redis.call('HSET', KEYS[1], 'processing_at', ARGV[4])
  if ARGV[13] ~= '' then
    redis.call('HSET', KEYS[1], 'worker', ARGV[13], 'worker_boot', ARGV[14])
  else
    redis.call('HDEL', KEYS[1], 'worker', 'worker_boot')
  end
end
if ARGV[8] ~= '' then
  redis.call('HINCRBY', KEYS[5], ARGV[8], 1)
  redis.call('SADD', KEYS[6], 'counter:bridge_events_processed_total')
end
if ARGV[10] == 'start' then
  redis.call('RPUSH', KEYS[2], ARGV[11])
elseif ARGV[10] == 'finish' then
  local n = redis.call('LLEN', KEYS[2])
  local done = false
  for i = n - 1, math.max(0, n - 20), -1 do
    local a = cjson.decode(redis.call('LINDEX', KEYS[2], i))
    if a['task_id'] == ARGV[12] and a['finished_at'] == cjson.null then
      redis.call('LSET', KEYS[2], i, ARGV[11])
      done = true
      break
    end
  end
  if not done then redis.call('RPUSH', KEYS[2], ARGV[11]) end
end
-- retention: a final record (and its attempts) expires; any other status is kept
if ARGV[2] == 'processed' or ARGV[2] == 'ignored' then
  redis.call('PEXPIRE', KEYS[1], ARGV[16])
  redis.call('PEXPIRE', KEYS[2], ARGV[16])
else
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[2])
end
return {1, cur}
"""

# KEYS: inflight, outbox, seen. ARGV: ref. Only re-sends a ref still in flight.
RESEND = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) > 0 then
  redis.call('LPUSH', KEYS[2], ARGV[1])
end
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
"""

# KEYS: all index, 6 status indexes, then the event and attempts keys of each ref in turn.
# ARGV: refs (all received before the retention cutoff). Returns how many were dropped.
TRIM = """
local removed = 0
for i, ref in ipairs(ARGV) do
  local event, attempts = KEYS[6 + 2 * i], KEYS[7 + 2 * i]
  local gone = redis.call('EXISTS', event) == 0
  local status = redis.call('HGET', event, 'status')
  if not gone and (status == 'processed' or status == 'ignored')
      and redis.call('PTTL', event) == -1 then
    -- final without a TTL: recorded as ignored on receipt, or finished before retention
    redis.call('DEL', event, attempts)
    gone = true
  end
  if gone then
    for k = 1, 7 do redis.call('ZREM', KEYS[k], ref) end
    removed = removed + 1
  end
end
return removed
"""
