-- GET /_groupcache/scores/key-<i> for i cycling through 0 .. N-1, so a cache node answers a
-- working set of N pre-warmed keys (its hit path): wrk -t1 ... -s cycle_keys.lua URL -- N
local n = 1000
local i = 0

init = function(args)
    n = tonumber(args[1]) or n
end

request = function()
    local path = "/_groupcache/scores/key-" .. i
    i = (i + 1) % n
    return wrk.format(nil, path)
end
