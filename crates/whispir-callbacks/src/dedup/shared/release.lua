-- Gives up a claim on one callback event if this token still holds it.
-- KEYS[1]: the event's key. ARGV[1]: the claim's token.
-- Returns 1 when released, 0 when another claim (or done) was there.
if redis.call('GET', KEYS[1]) == 'claim:' .. ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
