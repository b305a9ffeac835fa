-- MXTLS_SESSIONS sessions, each with a message that ends normally or is
-- aborted: per-connection state must be freed on every path (the test
-- stops the milter afterwards; under ASan, LeakSanitizer checks).
local function check(cond, what)
  if not cond then error("FAILED: " .. what) end
end
local n = tonumber(os.getenv("MXTLS_SESSIONS") or "1000")
for i = 1, n do
  local conn = mt.connect(os.getenv("MXTLS_MILTER_SOCKET"), 40, 0.25)
  check(conn ~= nil, "connect " .. i)
  mt.conninfo(conn, "client.lab.test", "127.0.0.1")
  mt.mailfrom(conn, "<sender@lab.test>")
  mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", "user@healthy12.test")
  mt.rcptto(conn, "<user@healthy12.test>")
  if i % 2 == 0 then
    mt.eom(conn)
    check(mt.getreply(conn) == SMFIR_CONTINUE, "EOM " .. i)
  elseif i % 3 == 0 then
    mt.abort(conn)
  end
  mt.disconnect(conn)
end
mt.echo("sessions: " .. n .. " done")
