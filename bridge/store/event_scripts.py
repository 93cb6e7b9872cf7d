"""The event ledger's Lua scripts: each runs atomically in Redis, in one round trip.

RECORD: record an accepted delivery, index it and put it on the outbox, unless known.
MARK: move an event to another status (indexes, parked set, outbox, counters, attempts).
RESEND: put a ref left in the relay's in-flight list back on the outbox.
"""

# KEYS: event, all index, status index, outbox, received counter, metric names, dup counter.
# ARGV: ref, score, status, received label field, duplicate label field, field/value pairs...
RECORD = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HINCRBY', KEYS[7], ARGV[5], 1)
  redis.call('SADD', KEYS[6], 'counter:bridge_events_duplicate_total')
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
if ARGV[3] == 'queued' then redis.call('LPUSH', KEYS[4], ARGV[1]) end
redis.call('HINCRBY', KEYS[5], ARGV[4], 1)
redis.call('SADD', KEYS[6], 'counter:bridge_events_received_total')
return 1
"""

# KEYS: event, attempts, parked, outbox, processed counter, metric names, 6 status indexes.
# ARGV: ref, new status, now iso, now s, error, due s, requeue, metric field,
#       allowed current statuses (comma list, '' = any), attempt mode, attempt json, task id.
MARK = """
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {-1, ''} end
if ARGV[9] ~= '' and not string.find(',' .. ARGV[9] .. ',', ',' .. cur .. ',', 1, true) then
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
