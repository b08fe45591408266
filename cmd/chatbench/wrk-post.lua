-- wrk script for the posts figure of the README: each request posts a new
-- ~100-byte message, rotating over 1,000 names, and any answer that is not
-- 200 or carries GraphQL errors is counted and reported.
--   wrk -t2 -c30 -d10s --latency -s cmd/chatbench/wrk-post.lua http://127.0.0.1:8080/graphql
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"query":"mutation($u: String!, $t: String!) { postMessage(user: $u, text: $t) { id } }","variables":{"u":"user%d","t":"message %d of the benchmark, about a hundred bytes long like a chat line in a room"}}', n % 1000, n)
  return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json"}, body)
end
local errors = 0
response = function(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"') then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("graphql errors or non-200: %d\n", errors))
end
