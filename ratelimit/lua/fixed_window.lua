-- fixed_window: at most `limit` cost units per window; a window opens with a key's first admitted hit and
-- lasts `period`. The key's own TTL, kept by Redis, is the window's clock, so no app clock is involved, and
-- the counter and its expiry are written in the same atomic step (the INCR-then-EXPIRE race of Q11 cannot
-- happen). See ratelimit/algorithms/fixed_window.py for the idea, its known weakness and its sources.
--
-- KEYS[1]  the window's counter
-- ARGV     limit, period (microseconds), cost
-- returns  {allowed (1/0), remaining, reset_after_us, retry_after_us}

local key = KEYS[1]
local limit = tonumber(ARGV[1])
local period_ms = math.ceil(tonumber(ARGV[2]) / 1000)
local cost = tonumber(ARGV[3])

local count = tonumber(redis.call('GET', key) or '0')
local ttl_ms = redis.call('PTTL', key)
if count > 0 and ttl_ms < 0 then
  -- a counter without expiry (e.g. left by a naive INCR-then-EXPIRE limiter that died in between) would
  -- lock its client out for ever: give it the window it should have had
  redis.call('PEXPIRE', key, period_ms)
  ttl_ms = period_ms
end

if count + cost > limit then
  local wait = math.max(ttl_ms, 1) * 1000  -- PTTL says 0 in the key's last millisecond; it is not gone yet
  return {0, limit - count, wait, wait}
end
if count == 0 then
  redis.call('SET', key, cost, 'PX', period_ms)
  ttl_ms = period_ms
else
  redis.call('INCRBY', key, cost)
end
return {1, limit - count - cost, ttl_ms * 1000, 0}
