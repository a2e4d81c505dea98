-- Claims one callback event for a lease, atomically.
-- KEYS[1]: the event's key. ARGV[1]: the claim's token. ARGV[2]: the lease, ms.
-- Returns {0, 0}: claimed (new, the last claim ran out and Redis dropped it,
-- or this token's claim already: a call run again after a lost answer);
-- {1, 0}: acted on already; {2, ms}: another claim holds it for ms more.
local held = redis.call('GET', KEYS[1])
if not held or held == 'claim:' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'claim:' .. ARGV[1], 'PX', ARGV[2])
  return {0, 0}
end
if string.sub(held, 1, 4) == 'done' then
  return {1, 0}
end
return {2, redis.call('PTTL', KEYS[1])}
