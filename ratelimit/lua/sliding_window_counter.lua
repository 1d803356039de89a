-- sliding_window_counter: Cloudflare's approximation of a sliding window from two fixed-window counters.
-- The estimate is  previous * (period - elapsed) / period + current,  i.e. the previous window's count is
-- assumed to be spread evenly over it. Time comes from Redis TIME. See
-- ratelimit/algorithms/sliding_window_counter.py for the idea, the error bound and the sources.
--
-- KEYS[1], KEYS[2]  the counters of even and odd windows (hashes {w = window index, n = count}); the client
--                   cannot know which window is current (only Redis's clock decides), so it passes both, and
--                   both carry the same {hash tag} so a Redis Cluster keeps them in one slot
-- ARGV              limit, period (microseconds), cost
-- returns           {allowed (1/0), remaining, reset_after_us, retry_after_us}

local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

local window = math.floor(now / period)
local elapsed = now - window * period
local current_key = KEYS[1 + window % 2]
local previous_key = KEYS[1 + (window + 1) % 2]

-- the count a key holds for `w`, or 0 when it still holds an older window (its expiry is only cleanup)
local function count_of(key, w)
  local stored = redis.call('HMGET', key, 'w', 'n')
  if tonumber(stored[1]) == w then
    return tonumber(stored[2])
  end
  return 0
end
local previous = count_of(previous_key, window - 1)
local current = count_of(current_key, window)

-- all in integers (times `period`), so the comparison is exact:
-- previous * (period - elapsed) / period + current + cost <= limit
local weighted = previous * (period - elapsed)
local allowed = weighted + (current + cost) * period <= limit * period
if allowed then
  current = current + cost
  redis.call('HSET', current_key, 'w', window, 'n', current)
  -- this window's count matters until the end of the next window, then it is forgotten
  redis.call('PEXPIREAT', current_key, math.ceil((window + 2) * period / 1000))
end

local remaining = math.max(0, math.floor((limit * period - weighted - current * period) / period))
local reset_after = 0
if current > 0 then
  reset_after = (window + 2) * period - now
elseif previous > 0 then
  reset_after = (window + 1) * period - now
end
if allowed then
  return {1, remaining, reset_after, 0}
end

-- refused: the previous window's weight falls as time passes; when is it low enough for `cost` more?
local retry_at
local room = limit - current - cost
if room >= 0 then
  -- later in this window: previous * (period - e) <= room * period
  retry_at = window * period + math.ceil(period - room * period / previous)
else
  -- in the next window, where this window's count becomes the previous one
  room = limit - cost
  retry_at = (window + 1) * period + math.max(0, math.ceil(period - room * period / current))
end
return {0, remaining, reset_after, retry_at - now}
