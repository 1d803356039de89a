-- gcra: the Generic Cell Rate Algorithm as in brandur/redis-cell and brandur/throttled. One number per key,
-- the theoretical arrival time (TAT) of the next unit; a unit is admitted when the TAT it would create is at
-- most `tolerance` ahead of now. `limit` units may arrive at once (the burst), then one every `interval`.
-- Time comes from Redis TIME. See ratelimit/algorithms/gcra.py for the idea and its sources.
--
-- KEYS[1]  the TAT in microseconds
-- ARGV     limit, period (microseconds), cost
-- returns  {allowed (1/0), remaining, reset_after_us, retry_after_us}

local key = KEYS[1]
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

-- whole microseconds keep every sum exact; rounding the interval up never lets the rate exceed limit/period
local interval = math.ceil(period / limit)
local tolerance = interval * limit

local tat = math.max(tonumber(redis.call('GET', key) or '0'), now)
local new_tat = tat + interval * cost
local allow_at = new_tat - tolerance
if now < allow_at then
  return {0, math.floor((tolerance - (tat - now)) / interval), tat - now, allow_at - now}
end
redis.call('SET', key, new_tat, 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((tolerance - (new_tat - now)) / interval), new_tat - now, 0}
