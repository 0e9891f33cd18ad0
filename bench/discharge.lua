-- wrk: POST one discharge per request, each for a different plan (a plan can be discharged once).
-- BENCH_BODIES names a file of JSON bodies, one a line; BENCH_LUA_DIR is this directory.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  bodies[#bodies + 1] = line
end
local sent = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  sent = sent + 1
  return wrk.format(nil, nil, nil, bodies[((sent - 1) % #bodies) + 1])
end
