-- What a process sent through its local fallback while it could not reach
-- the store joins the shared daily count, each send once: a send the store
-- already counted (a retry whose first answer was lost) counts nothing
-- again. Times are Redis's clock (TIME), in microseconds.
--
-- KEYS[1]  the quota's state (hash: period, count)
-- KEYS[2]  the sends of the last 24 hours (sorted set, rolling window only)
-- KEYS[3]  the names of fallback sends already counted (set, fixed reset
--          only)
-- ARGV[1]  -1 for a rolling 24 hours, else the daily reset as µs after
--          midnight UTC
-- ARGV[2..] pairs: a send's name (unique across processes), and how long
--          before now it was sent (µs)
--
-- Answers the number of sends counted by this call.

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local reset = tonumber(ARGV[1])
local day = 86400000000

local function whole(x)
  return string.format('%.0f', x)
end

local counted = 0
if reset < 0 then
  for i = 2, #ARGV - 1, 2 do
    local at = now - tonumber(ARGV[i + 1])
    -- A send more than a day old has left the rolling window already.
    if at > now - day then
      counted = counted + redis.call('ZADD', KEYS[2], 'NX', whole(at), ARGV[i])
    end
  end
  if counted > 0 then
    redis.call('PEXPIRE', KEYS[2], 86400000 + 60000)
  end
  return counted
end

local period = math.floor((now - reset) / day)
for i = 2, #ARGV - 1, 2 do
  local sent_period = math.floor((now - tonumber(ARGV[i + 1]) - reset) / day)
  -- Only sends of the current period count against it.
  if redis.call('SADD', KEYS[3], ARGV[i]) == 1 and sent_period == period then
    counted = counted + 1
  end
end
redis.call('PEXPIRE', KEYS[3], 2 * 86400000)
if counted > 0 then
  local state = redis.call('HMGET', KEYS[1], 'period', 'count')
  if tonumber(state[1]) == period then
    redis.call('HINCRBY', KEYS[1], 'count', counted)
  else
    redis.call('HSET', KEYS[1], 'period', whole(period), 'count', counted)
  end
end
return counted
