-- sliding_window_log: at most `limit` cost units in any window (now - period, now], counted exactly from a
-- log of admitted units (a sorted set scored by admission time). Time comes from Redis TIME, so app clocks do
-- not matter. See ratelimit/algorithms/sliding_window_log.py for the idea, its cost and its sources.
--
-- KEYS[1]  the log: one member per admitted unit, score = admission time in microseconds
-- ARGV     limit, period (microseconds), cost
-- returns  {allowed (1/0), remaining, reset_after_us, retry_after_us}

local key = KEYS[1]
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

-- units admitted at or before now - period have left the window
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - period)
local count = redis.call('ZCARD', key)

if count + cost <= limit then
  for i = 1, cost do
    -- members must be unique or ZADD would merge two units: the time plus the unit's rank is, because every
    -- unit already logged at this same microsecond has a lower rank (nothing that recent was trimmed)
    redis.call('ZADD', key, now, string.format('%d:%d', now, count + i))
  end
  redis.call('PEXPIRE', key, math.ceil(period / 1000))
  return {1, limit - count - cost, period, 0}
end

-- refused: wait until enough of the oldest units have left for `cost` more to fit
local needed = count + cost - limit
local oldest = redis.call('ZRANGE', key, needed - 1, needed - 1, 'WITHSCORES')
local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
return {0, limit - count, tonumber(newest[2]) + period - now, tonumber(oldest[2]) + period - now}
