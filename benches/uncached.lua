-- Makes every request a page-cache miss: an ignored parameter, different for each request,
-- so each one runs the search. Used by load.sh for the search rows.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local n = 0
function request()
  n = n + 1
  return wrk.format(nil, wrk.path .. "&fresh=" .. tid .. "-" .. n)
end
