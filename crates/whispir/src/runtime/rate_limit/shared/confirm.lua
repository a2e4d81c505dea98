-- A process reached its booked turn late (or cannot tell how late): its
-- send moves to now on the store's clock, if no window holding now would
-- then hold more than the plan. Atomic on the server.
--
-- KEYS[1]  the quota's state (hash: next, pause, api_pause)
-- KEYS[2]  the sends of the last two windows, by time (sorted set)
-- ARGV[1]  the request's name TAKE booked the turn under
-- ARGV[2]  the window (µs)
-- ARGV[3]  requests per window
--
-- Answers {0}: send now; {2, wait}: the API asked every process to pause:
-- give the turn up; {3}: the turn is void (sent now it would put a window
-- over the plan; the store holds everyone for a hand-over; or it does not
-- know the turn: a restart, or a snapshot from before it): give it up, its
-- entry gone, and ask TAKE again.

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
local booked = tonumber(redis.call('ZSCORE', KEYS[2], turn))
if state[1] == false or booked == nil or (tonumber(state[2]) or 0) > now then
  redis.call('ZREM', KEYS[2], turn)
  return {3}
end

local lower = '(' .. whole(now - window)
local upper = '(' .. whole(now + window)
-- Most often the sends after now - window but this one are fewer than the
-- plan: then no window holding now holds more.
local others = redis.call('ZCOUNT', KEYS[2], lower, '+inf')
if booked > now - window then
  others = others - 1
end
if others >= per_second then
  -- Else the sends near now but this one, and now among them in time
  -- order (at most per_second + 1 on each side: enough for every run of
  -- per_second + 1 that holds now).
  local before = redis.call('ZREVRANGEBYSCORE', KEYS[2], whole(now), lower,
    'WITHSCORES', 'LIMIT', 0, per_second + 1)
  local after = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. whole(now), upper,
    'WITHSCORES', 'LIMIT', 0, per_second + 1)
  local times = {}
  for i = #before - 1, 1, -2 do
    if before[i] ~= turn then
      times[#times + 1] = tonumber(before[i + 1])
    end
  end
  times[#times + 1] = now
  local at = #times
  for i = 1, #after, 2 do
    if after[i] ~= turn then
      times[#times + 1] = tonumber(after[i + 1])
    end
  end
  -- Every run of per_second + 1 sends holding this one must span the
  -- window; else the turn is void.
  for first = math.max(1, at - per_second), at do
    local last = first + per_second
    if last <= #times and times[last] - times[first] < window then
      redis.call('ZREM', KEYS[2], turn)
      return {3}
    end
  end
end
redis.call('ZADD', KEYS[2], whole(now), turn)
redis.call('PEXPIRE', KEYS[2], math.floor(2 * window / 1000) + 1000)
return {0}
