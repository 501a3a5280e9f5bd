-- GET /user/keys/<n> with a new n on every request, so that no lookup cache can hide the
-- router's cost: wrk -t1 ... -s late_route.lua URL -- START (n counts up from START + 1; the
-- warm-up and the measured run start far apart, so the measured run repeats no warm-up id).
local counter = 0

init = function(args)
    counter = tonumber(args[1]) or 0
end

request = function()
    counter = counter + 1
    return wrk.format(nil, "/user/keys/" .. counter)
end
