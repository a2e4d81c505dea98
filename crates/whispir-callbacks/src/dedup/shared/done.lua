-- Marks one callback event acted on, whoever holds it now: it was acted on.
-- KEYS[1]: the event's key. ARGV[1]: the claim's token. ARGV[2]: how long to
-- remember it, ms. The mark keeps the token, so that this call run again
-- (after a lost answer) is told from another handler's.
-- Returns 0 when the claim was still this token's (or this token marked it
-- done already); 1 when it had run out (or another claim had taken it
-- over): this handler outlasted its lease; 2 when another claim had marked
-- it done: another handler acted on it too.
local held = redis.call('GET', KEYS[1])
local mine = 'done:' .. ARGV[1]
redis.call('SET', KEYS[1], mine, 'PX', ARGV[2])
if held == 'claim:' .. ARGV[1] or held == mine then
  return 0
end
if held and string.sub(held, 1, 4) == 'done' then
  return 2
end
return 1
