-- The API refused a request for quota: hold every process's requests for
-- ARGV[1] microseconds from now on Redis's clock (a pause already longer
-- stays).
--
-- KEYS[1]  the quota's state (hash)

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local until_then = now + tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'api_pause')) or 0
if until_then > current then
  redis.call('HSET', KEYS[1], 'api_pause', string.format('%.0f', until_then))
end
return 1
