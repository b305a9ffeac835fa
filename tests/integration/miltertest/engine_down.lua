-- mxtls-milter whose engine cannot be reached: RCPT must get
-- MXTLS_EXPECT ("continue": fail open, or "tempfail").
local function check(cond, what)
  if not cond then error("FAILED: " .. what) end
end
local expect = os.getenv("MXTLS_EXPECT")
local conn = mt.connect(os.getenv("MXTLS_MILTER_SOCKET"), 40, 0.25)
check(conn ~= nil, "connect to the milter")
mt.conninfo(conn, "client.lab.test", "127.0.0.1")
mt.mailfrom(conn, "<sender@lab.test>")
mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", "user@nostarttls.test")
mt.rcptto(conn, "<user@nostarttls.test>")
if expect == "tempfail" then
  check(mt.getreply(conn) == SMFIR_REPLYCODE, "RCPT: tempfail when the engine is down")
else
  check(mt.getreply(conn) == SMFIR_CONTINUE, "RCPT: fail open when the engine is down")
  mt.eom(conn)
  check(mt.getreply(conn) == SMFIR_CONTINUE, "EOM: continue")
end
mt.disconnect(conn)
mt.echo("engine_down: all checks passed")
