-- A process reached its booked turn late (or cannot tell how late): its
-- send moves to now on the store's clock, if no window holding now would
-- then hold more than the plan. Atomic on the server.
--
-- KEYS[1]  the quota's state (hash: next, pause, api_pause)
-- KEYS[2]  the sends of the last two windows, by time (sorted set)
-- ARGV[1]  the turn (the member TAKE booked)
-- ARGV[2]  the window (µs)
-- ARGV[3]  requests per window
--
-- Answers {0}: send now; {1, wait}: not yet, ask again after wait;
-- {2, wait}: the API asked every process to pause: give the turn up;
-- {3}: the store holds everyone for a hand-over, or forgot its state (a
-- restart): give the turn up and ask TAKE again.

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local turn = ARGV[1]
local window = tonumber(ARGV[2])
local per_second = tonumber(ARGV[3])

local function whole(x)
  return string.format('%.0f', x)
end

local state = redis.call('HMGET', KEYS[1], 'next', 'pause', 'api_pause')
local api_pause = tonumber(state[3]) or 0
if api_pause > now then
  return {2, api_pause - now}
end
if state[1] == false or (tonumber(state[2]) or 0) > now then
  return {3}
end

-- The sends near now but this turn, and now among them in time order.
local near = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. whole(now - window),
  '(' .. whole(now + window), 'WITHSCORES')
local times = {}
local at = nil
for i = 1, #near, 2 do
  if near[i] ~= turn then
    local t = tonumber(near[i + 1])
    if at == nil and t > now then
      times[#times + 1] = now
      at = #times
    end
    times[#times + 1] = t
  end
end
if at == nil then
  times[#times + 1] = now
  at = #times
end
-- Every run of per_second + 1 sends holding this one must span the window.
local free_at = now
for first = math.max(1, at - per_second), at do
  local last = first + per_second
  if last <= #times and times[last] - times[first] < window then
    free_at = math.max(free_at, times[first] + window)
  end
end
if free_at > now then
  return {1, free_at - now}
end
redis.call('ZADD', KEYS[2], whole(now), turn)
redis.call('PEXPIRE', KEYS[2], math.floor(2 * window / 1000) + 1000)
return {0}
