-- GET /user/keys/<n> with a new n on every request, so that no lookup cache can hide the
-- router's cost (wrk -s late_route.lua). One wrk thread (-t1): one counter.
local counter = 0

request = function()
    counter = counter + 1
    return wrk.format(nil, "/user/keys/" .. counter)
end
