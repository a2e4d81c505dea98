-- A unit of the daily budget taken for a request that was never sent goes
-- back.
--
-- KEYS[1]  the quota's state (hash)
-- KEYS[2]  the sends of the last 24 hours (sorted set, rolling window only)
-- ARGV[1]  'rolling' or 'reset'
-- ARGV[2]  the unit: the request's name (rolling), or the period it counted in

if ARGV[1] == 'rolling' then
  return redis.call('ZREM', KEYS[2], ARGV[2])
end
local counted = redis.call('HMGET', KEYS[1], 'period', 'count')
if counted[1] == ARGV[2] and (tonumber(counted[2]) or 0) > 0 then
  redis.call('HINCRBY', KEYS[1], 'count', -1)
  return 1
end
return 0
