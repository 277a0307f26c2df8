-- Tollgate's rate-limit store: one call per gateway per sync interval, atomic.
-- The same semantics as tollgate_limits::MemoryStore (core/limits/src/store.rs).
--
-- KEYS[1]      the sorted set of live gateways (heartbeats)
-- KEYS[i + 1]  the hash of operation i: fields "c<slot>" (calls) and "b<slot>" (bytes)
-- ARGV[1..4]   gateway id, now (ms), heartbeat lifetime (ms), number of operations
-- ARGV[...]    9 per operation: op (A ask, C charge, R return, M move), slots per
--              window K, ttl (ms, 0 = keep), limit of calls, limit of bytes (-1 = not
--              limited), slot, second slot (M: to), calls, bytes
-- Returns      { live gateways, then for each ask: granted c, granted b,
--                remaining c, remaining b, free slot c, free slot b } (-1 = unlimited)

local procs = KEYS[1]
local now = tonumber(ARGV[2])
local life = tonumber(ARGV[3])
redis.call('ZADD', procs, now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', procs, '-inf', now - life)
redis.call('PEXPIRE', procs, life * 2)
local out = { redis.call('ZCARD', procs) }

local function field(u, s)
  return (u == 1 and 'c' or 'b') .. string.format('%d', s)
end

for i = 0, tonumber(ARGV[4]) - 1 do
  local b = 4 + i * 9
  local key = KEYS[i + 2]
  local op = ARGV[b + 1]
  local k = tonumber(ARGV[b + 2])
  local ttl = tonumber(ARGV[b + 3])
  local lim = { tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5]) }
  local s1 = tonumber(ARGV[b + 6])
  local s2 = tonumber(ARGV[b + 7])
  local n = { tonumber(ARGV[b + 8]), tonumber(ARGV[b + 9]) }

  local newest = s1
  if op == 'M' and s2 > s1 then newest = s2 end
  local oldest = newest - k + 1
  local counts = { {}, {} }
  local flat = redis.call('HGETALL', key)
  for j = 1, #flat, 2 do
    local f = flat[j]
    local u = (string.sub(f, 1, 1) == 'c') and 1 or 2
    local s = tonumber(string.sub(f, 2))
    if s == nil or s < oldest then
      redis.call('HDEL', key, f)
    else
      counts[u][s] = tonumber(flat[j + 1])
    end
  end

  local function add(u, s, d)
    if d ~= 0 then
      local v = redis.call('HINCRBY', key, field(u, s), d)
      if v <= 0 then redis.call('HDEL', key, field(u, s)) end
      counts[u][s] = v
    end
  end

  local function take_back(u, s, want)
    local have = counts[u][s] or 0
    local t = want
    if have < t then t = have end
    add(u, s, -t)
  end

  if op == 'A' then
    local answer = { 0, 0, -1, -1, 0, 0 }
    for u = 1, 2 do
      if lim[u] >= 0 then
        -- The most any window holding slot s1 holds: those ending at s1 and at later
        -- slots already charged (a gateway whose clock runs a little ahead).
        local last = s1
        for s, _ in pairs(counts[u]) do
          if s > last and s <= s1 + k - 1 then last = s end
        end
        local used = 0
        for e = s1, last do
          local sum = 0
          for s, c in pairs(counts[u]) do
            if s >= e - k + 1 and s <= e then sum = sum + c end
          end
          if sum > used then used = sum end
        end
        local avail = lim[u] - used
        if avail < 0 then avail = 0 end
        local g = n[u]
        if g > avail then g = avail end
        add(u, s1, g)
        answer[u] = g
        answer[u + 2] = avail - g
        if avail - g == 0 then
          local free = 0
          for s, c in pairs(counts[u]) do
            if c > 0 and s >= s1 - k + 1 and s <= s1 and (free == 0 or s < free) then free = s end
          end
          answer[u + 4] = free
        end
      end
    end
    for _, v in ipairs(answer) do table.insert(out, v) end
  else
    for u = 1, 2 do
      if lim[u] >= 0 then
        if op == 'C' then
          add(u, s1, n[u])
        elseif op == 'R' then
          take_back(u, s1, n[u])
        elseif op == 'M' then
          take_back(u, s1, n[u])
          add(u, s2, n[u])
        end
      end
    end
  end

  if ttl > 0 then
    redis.call('PEXPIRE', key, ttl)
  end
end

return out
