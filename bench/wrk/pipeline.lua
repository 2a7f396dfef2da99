-- HTTP/1.1 pipelining for wrk: every request() call returns one batch of DEPTH requests
-- written back to back; wrk counts each response, so req/s is per request, not per batch.
-- Depth: first script arg, else env PIPELINE_DEPTH, else 16.  Path: second arg, else "/".
--   wrk -t1 -c64 -d10s -s bench/wrk/pipeline.lua http://127.0.0.1:3000 -- 16 /
local depth = 16
local path = "/"
local req

init = function(args)
  local d = tonumber(args[1] or os.getenv("PIPELINE_DEPTH") or "")
  if d and d >= 1 then depth = math.floor(d) end
  if args[2] then path = args[2] end
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format("GET", path)
  end
  req = table.concat(r)
end

request = function()
  return req
end
