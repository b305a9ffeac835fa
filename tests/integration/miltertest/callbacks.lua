-- Drives mxtls-milter through every callback it implements: connect, MAIL,
-- RCPT (a tempfailed and an accepted recipient), end of message (header),
-- quarantine, abort in the middle of a message, and a message after it.
-- MXTLS_MILTER_SOCKET names the milter's socket.
local function check(cond, what)
  if not cond then error("FAILED: " .. what) end
end

local conn = mt.connect(os.getenv("MXTLS_MILTER_SOCKET"), 40, 0.25)
check(conn ~= nil, "connect to the milter")
mt.conninfo(conn, "client.lab.test", "127.0.0.1")
check(mt.getreply(conn) == SMFIR_CONTINUE, "connect: continue")

-- message 1: one incompatible, one healthy recipient
mt.macro(conn, SMFIC_MAIL, "i", "4F1A2B3C7D")
mt.mailfrom(conn, "<sender@lab.test>")
check(mt.getreply(conn) == SMFIR_CONTINUE, "MAIL: continue")
mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", "user@nostarttls.test")
mt.rcptto(conn, "<user@nostarttls.test>")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "RCPT nostarttls.test: tempfail with a reply code")
mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", "user@healthy12.test")
mt.rcptto(conn, "<user@healthy12.test>")
check(mt.getreply(conn) == SMFIR_CONTINUE, "RCPT healthy12.test: continue")
mt.eom(conn)
check(mt.getreply(conn) == SMFIR_CONTINUE, "EOM: continue")
check(mt.eom_check(conn, MT_HDRADD, "X-MXTLS", "healthy12.test=ok"), "EOM: X-MXTLS header added")

-- message 2: a held destination
mt.macro(conn, SMFIC_MAIL, "i", "5A6B7C8D9E")
mt.mailfrom(conn, "<sender@lab.test>")
mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", "user@starttls454.test")
mt.rcptto(conn, "<user@starttls454.test>")
check(mt.getreply(conn) == SMFIR_CONTINUE, "RCPT starttls454.test: continue (held at EOM)")
mt.eom(conn)
check(mt.eom_check(conn, MT_QUARANTINE), "EOM: quarantined")

-- message 3: aborted after RCPT
mt.mailfrom(conn, "<sender@lab.test>")
mt.rcptto(conn, "<user@healthy12.test>")
mt.abort(conn)

-- message 4: the connection still works after the abort
mt.mailfrom(conn, "<sender@lab.test>")
mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", "user@healthy13.test")
mt.rcptto(conn, "<user@healthy13.test>")
check(mt.getreply(conn) == SMFIR_CONTINUE, "RCPT after abort: continue")
mt.eom(conn)
check(mt.eom_check(conn, MT_HDRADD, "X-MXTLS", "healthy13.test=ok"), "EOM after abort: header")

mt.disconnect(conn)
mt.echo("callbacks: all checks passed")
