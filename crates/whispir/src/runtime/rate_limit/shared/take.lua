-- One decision of the shared rate limiter, atomic on the server: may a
-- request go now? Times are Redis's clock (TIME), in microseconds.
--
-- KEYS[1]  the quota's state (hash: next, pause, api_pause, seq, period,
--          count)
-- KEYS[2]  the sends of the last 24 hours (sorted set, rolling window only)
-- KEYS[3]  the sends of the last two windows, by time (sorted set)
-- ARGV[1]  the spacing between two requests (µs)
-- ARGV[2]  how late a turn may be taken without delaying the next (µs)
-- ARGV[3]  requests per day, 0 without a daily cap
-- ARGV[4]  -1 for a rolling 24 hours, else the daily reset as µs after
--          midnight UTC
-- ARGV[5]  the hand-over hold (µs): how long a new store, or a process back
--          from its local fallback, holds every request
-- ARGV[6]  'take' to decide, 'peek' to read the daily budget only,
--          'return' to decide for a process back from its local fallback
-- ARGV[7]  how far ahead a turn may be booked (µs)
-- ARGV[8]  the window (µs): a second and a margin for the requests' ways
--          to the API, none of which holds more than ARGV[9] sends
-- ARGV[9]  requests per second
-- ARGV[10] the request's name, unique across processes and restarts (the
--          client chooses it): its entry in KEYS[3], and in KEYS[2] for a
--          rolling daily budget
--
-- Answers {0, remaining, resets_in, period, wait}: the turn is booked, send
-- after wait (remaining -1 without a cap; period: where a fixed daily
-- window counted it), and confirm it (CONFIRM) when sent later than booked; {1, wait, why}: no turn within
-- the booking horizon, the next is free after wait, why being 0 for
-- another request's turn, 1 for a pause the API asked for, 2 for the
-- hand-over hold;
-- {2, resets_in}: the daily budget is spent;
-- {3, remaining, resets_in}: what 'peek' read.

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local spacing = tonumber(ARGV[1])
local lateness = tonumber(ARGV[2])
local per_day = tonumber(ARGV[3])
local reset = tonumber(ARGV[4])
local hand_over = tonumber(ARGV[5])
local mode = ARGV[6]
local horizon = tonumber(ARGV[7])
local window = tonumber(ARGV[8])
local per_second = tonumber(ARGV[9])
local name = ARGV[10]
local day = 86400000000

-- Lua 5.1 prints large numbers in exponent form: write them whole.
local function whole(x)
  return string.format('%.0f', x)
end

-- The daily budget: units left, and when the next comes back.
local remaining = -1
local resets_in = 0
local period = nil
if per_day > 0 then
  if reset < 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', whole(now - day))
    remaining = per_day - redis.call('ZCARD', KEYS[2])
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    if oldest[2] then
      resets_in = tonumber(oldest[2]) + day - now
    end
  else
    period = math.floor((now - reset) / day)
    local counted = redis.call('HMGET', KEYS[1], 'period', 'count')
    local used = 0
    if tonumber(counted[1]) == period then
      used = tonumber(counted[2]) or 0
    end
    remaining = per_day - used
    resets_in = (period + 1) * day + reset - now
  end
  if remaining < 0 then
    remaining = 0
  end
end
if mode == 'peek' then
  return {3, remaining, resets_in}
end
if remaining == 0 then
  if resets_in <= 0 then
    resets_in = day
  end
  return {2, resets_in}
end

-- The pace: one turn per spacing, none during a pause.
local state = redis.call('HMGET', KEYS[1], 'next', 'pause', 'api_pause')
local next_turn = tonumber(state[1])
local pause = tonumber(state[2]) or 0
local api_pause = tonumber(state[3]) or 0
if next_turn == nil or mode == 'return' then
  -- A new (or restarted) store, or a process that sent through its local
  -- fallback: what was sent without the store leaves the sliding second
  -- before the store admits anything.
  if now + hand_over > pause then
    pause = now + hand_over
    redis.call('HSET', KEYS[1], 'pause', whole(pause))
  end
  if next_turn == nil then
    next_turn = 0
    redis.call('HSET', KEYS[1], 'next', 0)
  end
end
local free_at = math.max(next_turn, pause, api_pause)
-- Booking a turn a little ahead keeps the schedule full: the process
-- sleeps until it, instead of racing the others for it once it is due.
if now + horizon < free_at then
  local why = 0
  if api_pause >= free_at then
    why = 1
  elseif pause >= free_at then
    why = 2
  end
  return {1, free_at - now, why}
end
-- A turn taken a little late keeps the schedule's pace (the window's
-- margin absorbs that lateness).
local due = math.max(free_at, now - lateness)
-- The sliding window, the rule itself: a booked turn is the latest send
-- (a confirmed one is never later than the store's clock), so it may go
-- once the per_second-th latest send is a window old. Turns confirmed late
-- push the schedule back here by their lateness, no more.
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. whole(now - 2 * window))
if redis.call('ZCOUNT', KEYS[3], '(' .. whole(due - window), '+inf') >= per_second then
  local nth = redis.call('ZREVRANGE', KEYS[3], per_second - 1, per_second - 1, 'WITHSCORES')
  if nth[2] then
    due = math.max(due, tonumber(nth[2]) + window)
  end
end
if due > now + horizon then
  return {1, due - now, 0}
end
redis.call('HSET', KEYS[1], 'next', whole(due + spacing))
redis.call('ZADD', KEYS[3], whole(due), name)
redis.call('PEXPIRE', KEYS[3], math.floor(2 * window / 1000) + 1000)
local sent_at = math.max(due, now)

local unit = 0
if per_day > 0 then
  remaining = remaining - 1
  -- (How many units were ever taken: for people watching the store.)
  redis.call('HINCRBY', KEYS[1], 'seq', 1)
  if reset < 0 then
    redis.call('ZADD', KEYS[2], whole(sent_at), name)
    -- Gone a day after the last send.
    redis.call('PEXPIRE', KEYS[2], 86400000 + 60000)
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    resets_in = tonumber(oldest[2]) + day - now
  else
    -- (A turn booked across the reset counts in the period it was booked.)
    local counted = redis.call('HMGET', KEYS[1], 'period', 'count')
    if tonumber(counted[1]) == period then
      redis.call('HINCRBY', KEYS[1], 'count', 1)
    else
      redis.call('HSET', KEYS[1], 'period', whole(period), 'count', 1)
    end
    unit = period
  end
end
return {0, remaining, resets_in, unit, sent_at - now}
