-- Marks one callback event acted on, whoever holds it now: it was acted on.
-- KEYS[1]: the event's key. ARGV[1]: the claim's token. ARGV[2]: how long to
-- remember it, ms.
-- Returns 0 when the claim was still this token's; 1 when it had run out
-- (or another claim had taken it over): this handler outlasted its lease;
-- 2 when the event was done already: another handler acted on it too.
local held = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
if held == 'claim:' .. ARGV[1] then
  return 0
end
if held == 'done' then
  return 2
end
return 1
