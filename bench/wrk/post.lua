-- POST /echo with a 1 KiB (1024-byte) JSON body, content-type application/json.
-- The server is expected to echo the body back.
--   wrk -t1 -c64 -d10s -s bench/wrk/post.lua http://127.0.0.1:3000
local prefix = '{"data":"'
local suffix = '"}'
local body = prefix .. string.rep("x", 1024 - #prefix - #suffix) .. suffix
assert(#body == 1024)

wrk.method = "POST"
wrk.path = "/echo"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
