-- Extends a claim on one callback event while its handler still works.
-- KEYS[1]: the event's key. ARGV[1]: the claim's token. ARGV[2]: the lease, ms.
-- Returns 1 when extended, 0 when the claim is no longer this token's.
if redis.call('GET', KEYS[1]) == 'claim:' .. ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
