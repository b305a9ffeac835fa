"""mxtls-milter with the real Postfix (smtpd_milters and non_smtpd_milters)
and mxtls-policyd in the lab: the verdict header on delivered mail (folded
and bounded for a message to many domains), a
per-recipient tempfail for an incompatible destination while the other
recipient is accepted (or, with defer_recipients = no, annotated only),
quarantine into the hold queue, log lines with the queue id, and fail-open
when the engine is down. Postfix has no policy
service here: the milter alone acts. Runs inside tests/lab/netns-run.

usage: milter_postfix_test.py BUILD_DIR"""

import json
import re
import smtplib
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, smtp_submit, wait_for  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
lab = None
POLICY = "domain_actions = starttls454.test:hold"


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-milter", BUILD)
    unittest.addModuleCleanup(lab.stop)  # runs even when setUpModule fails
    lab.start()
    lab.start_postfix({
        "smtp_tls_security_level": "encrypt",
        "smtpd_milters": f"unix:{lab.milter_socket}",
        "non_smtpd_milters": f"unix:{lab.milter_socket}",
        "milter_default_action": "accept",
    })
    lab.start_policyd(POLICY)
    lab.start_milter()
    for domain in ["healthy12.test", "healthy13.test", "nostarttls.test", "starttls454.test", "expired.test"]:
        lab.learn(domain)



def hold_queue():
    out = subprocess.run(["postqueue", "-j"], capture_output=True, text=True, check=True).stdout
    return [m for m in map(json.loads, out.splitlines()) if m["queue_name"] == "hold"]


class Milter(unittest.TestCase):
    def test_header_summarises_every_recipient_domain(self):
        replies = smtp_submit(["user@healthy12.test", "user@expired.test"], subject="header check")
        self.assertEqual([c for c, _ in replies.values()], [250, 250])
        msg = wait_for(lambda: next((m for m in lab.delivered_messages("healthy12") if "header check" in m), None),
                       what="delivery to healthy12.test")
        self.assertIn("X-MXTLS: healthy12.test=ok; expired.test=warning(cert_expired)", msg)

    def test_many_recipient_domains_get_a_folded_bounded_header(self):
        # One line per header used to grow with every domain: past RFC
        # 5322's 998 characters at about 30 domains, dropped by Postfix
        # at about 120 KB.
        others = [f"user@d{i}.many.test" for i in range(150)]
        replies = smtp_submit(["user@healthy12.test", *others], subject="many domains")
        self.assertEqual({c for c, _ in replies.values()}, {250})
        msg = wait_for(lambda: next((m for m in lab.delivered_messages("healthy12") if "many domains" in m), None),
                       what="delivery to healthy12.test")
        lines = msg.replace("\r\n", "\n").split("\n")
        start = next(i for i, l in enumerate(lines) if l.startswith("X-MXTLS: "))
        end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith(("\t", " ")))
        header = lines[start:end]
        self.assertGreater(len(header), 1, "folded")
        self.assertTrue(all(len(l) <= 78 for l in header), header)
        self.assertTrue(header[0].startswith("X-MXTLS: healthy12.test=ok; d0.many.test=unknown;"), header[0])
        value = "\n".join(header)[len("X-MXTLS: "):]
        self.assertLessEqual(len(value), 2048)
        listed = value.count(".many.test=")
        self.assertRegex(value, rf";\s+and {len(others) - listed} more$")

    def test_incompatible_recipient_is_tempfailed_the_other_accepted(self):
        replies = smtp_submit(["user@nostarttls.test", "user@healthy13.test"], subject="mixed")
        code, text = replies["user@nostarttls.test"]
        self.assertEqual(code, 450)
        self.assertIn("4.7.5", text)
        self.assertIn("starttls_not_offered", text)
        self.assertEqual(replies["user@healthy13.test"][0], 250)
        msg = wait_for(lambda: next((m for m in lab.delivered_messages("healthy13") if "Subject: mixed" in m), None),
                       what="delivery of the accepted recipient")
        self.assertIn("X-MXTLS: healthy13.test=ok", msg)
        self.assertNotIn("nostarttls", msg)

    def test_hold_puts_the_message_in_the_hold_queue(self):
        self.assertEqual(smtp_submit(["user@starttls454.test"], subject="to hold")["user@starttls454.test"][0], 250)
        held = wait_for(hold_queue, what="a message in the hold queue")
        self.assertEqual(held[0]["recipients"][0]["address"], "user@starttls454.test")
        qid = held[0]["queue_id"]
        wait_for(lambda: f"{qid}: hold: mxtls: TLS to starttls454.test starttls_refused" in lab.milter_log_text(),
                 what="the hold log line")

    def test_log_lines_carry_the_queue_id(self):
        smtp_submit(["user@healthy12.test"], subject="queue id")
        line = wait_for(lambda: next((l for l in lab.milter_log_text().splitlines()
                                      if "to=<user@healthy12.test>" in l), None), what="a milter log line")
        m = re.search(r"mxtls-milter\[\d+\]: ([0-9A-F]{6,}): to=<user@healthy12\.test>, domain=healthy12\.test, "
                      r"verdict=ok, reason=ok, action=dunno", line)
        self.assertTrue(m, line)
        self.assertIn(f"{m.group(1)}: ", (lab.dir / "postfix.log").read_text())

    def test_non_smtpd_submission_is_annotated(self):
        subprocess.run(["sendmail", "-f", "sender@lab.test", "user@healthy13.test"], check=True, text=True,
                       input="Subject: via sendmail\n\nbody\n")
        msg = wait_for(lambda: next((m for m in lab.delivered_messages("healthy13") if "via sendmail" in m), None),
                       what="delivery of the locally submitted message")
        self.assertIn("X-MXTLS: healthy13.test=ok", msg)

    def test_transactions_on_one_connection_stay_apart(self):
        # Inspecting every message, MAIL gets no reply. Three transactions
        # on one SMTP connection, the middle one reset after a recipient
        # that would be held: nothing of one may leak into the next.
        lab.stop_milter()
        lab.start_milter("inspect = all")
        try:
            with smtplib.SMTP("127.0.0.1", 25, timeout=30) as s:
                s.ehlo("client.lab.test")
                s.mail("first@lab.test")
                self.assertEqual(s.rcpt("user@nostarttls.test")[0], 450)
                self.assertEqual(s.rcpt("apart1@healthy12.test")[0], 250)
                s.data(b"Subject: apart 1\r\n\r\nbody\r\n")
                s.mail("reset@lab.test")
                self.assertEqual(s.rcpt("reset@starttls454.test")[0], 250)
                s.rset()
                s.mail("second@lab.test")
                self.assertEqual(s.rcpt("apart2@healthy13.test")[0], 250)
                s.data(b"Subject: apart 2\r\n\r\nbody\r\n")
            first = wait_for(lambda: next((m for m in lab.delivered_messages("healthy12") if "apart 1" in m), None),
                             what="the first message")
            second = wait_for(lambda: next((m for m in lab.delivered_messages("healthy13") if "apart 2" in m), None),
                              what="the second message")
            self.assertIn("X-MXTLS: healthy12.test=ok\n", first.replace("\r\n", "\n"))
            self.assertIn("X-MXTLS: healthy13.test=ok\n", second.replace("\r\n", "\n"))
            held = [r["address"] for m in hold_queue() for r in m["recipients"]]
            self.assertNotIn("apart2@healthy13.test", held)  # the reset transaction's hold did not carry over
            wait_for(lambda: "to=<apart2@healthy13.test>" in lab.milter_log_text(), what="the second message's log line")
            log = lab.milter_log_text()
            ids = [re.search(rf"\]: ([0-9A-F]{{6,}}): to=<{r}>", log) for r in ("apart1@healthy12.test", "apart2@healthy13.test")]
            self.assertTrue(all(ids), log[-2000:])
            self.assertNotEqual(ids[0].group(1), ids[1].group(1))
            self.assertNotIn("reset@starttls454.test", log)
        finally:
            lab.stop_milter()
            lab.start_milter()

    def test_annotating_only_accepts_what_the_engine_would_defer(self):
        # defer_recipients = no: Postfix sends each RCPT without waiting
        # for the milter, the recipient the engine would defer is accepted,
        # the header and the queue-id lines stay.
        lab.stop_milter()
        lab.start_milter("inspect = all\ndefer_recipients = no")
        try:
            replies = smtp_submit(["user@nostarttls.test", "annotated@healthy13.test"], subject="annotate only")
            self.assertEqual([c for c, _ in replies.values()], [250, 250])
            msg = wait_for(lambda: next((m for m in lab.delivered_messages("healthy13") if "annotate only" in m), None),
                           what="delivery to healthy13.test")
            self.assertIn("X-MXTLS: nostarttls.test=incompatible(starttls_not_offered); healthy13.test=ok", msg)
            line = wait_for(lambda: next((l for l in lab.milter_log_text().splitlines()
                                          if "to=<user@nostarttls.test>" in l and "defer_recipients" in l), None),
                            what="the milter's line for the recipient it did not defer")
            self.assertRegex(line, r"\]: [0-9A-F]{6,}: to=<user@nostarttls\.test>, domain=nostarttls\.test, "
                                   r"verdict=incompatible, reason=starttls_not_offered, action=defer\(not applied\), "
                                   r"note=accepted \(milter defer_recipients = no\)")
        finally:
            lab.stop_milter()
            lab.start_milter()

    def test_the_engines_defer_status_and_monitor_mode_are_what_the_milter_applies(self):
        # The milter remembers the engine's answers ([milter] verdict_cache):
        # a changed engine reaches a milter that starts afresh at once.
        def restart_both(policy):
            lab.stop_policyd()
            lab.start_policyd(policy)
            lab.stop_milter()
            lab.start_milter()
        try:
            restart_both(POLICY + "\ndefer_status = 4.7.1")
            code, text = smtp_submit(["user@nostarttls.test"], subject="status")["user@nostarttls.test"]
            self.assertEqual(code, 450)
            self.assertIn("4.7.1 TLS to nostarttls.test would fail: starttls_not_offered", text)
            restart_both(POLICY + "\nmonitor = yes")
            self.assertEqual(smtp_submit(["user@nostarttls.test"], subject="monitor")["user@nostarttls.test"][0], 250)
            wait_for(lambda: "to=<user@nostarttls.test>, domain=nostarttls.test, verdict=incompatible, "
                             "reason=starttls_not_offered, action=defer(monitor)" in lab.milter_log_text(),
                     what="the milter's monitor-mode line")
        finally:
            restart_both(POLICY)

    def test_answers_are_remembered_for_verdict_cache(self):
        # Two messages to one domain within [milter] verdict_cache (10 s by
        # default): the engine is asked once, the milter logs both.
        asked = lab.policyd_log_text().count("to=<memo@healthy13.test>")
        for subject in ("memo 1", "memo 2"):
            self.assertEqual(smtp_submit(["memo@healthy13.test"], subject=subject)["memo@healthy13.test"][0], 250)
        wait_for(lambda: lab.milter_log_text().count("to=<memo@healthy13.test>, domain=healthy13.test, verdict=ok") >= 2,
                 what="the milter's two lines")
        self.assertLessEqual(lab.policyd_log_text().count("to=<memo@healthy13.test>") - asked, 1)

    def test_fails_open_when_the_engine_is_down(self):
        lab.stop_policyd()
        try:
            replies = smtp_submit(["user@nostarttls.test"], subject="engine down")
            self.assertEqual(replies["user@nostarttls.test"][0], 250)
            wait_for(lambda: "engine unavailable" in lab.milter_log_text() and "fail open" in lab.milter_log_text(),
                     what="the fail-open warning")
        finally:
            lab.start_policyd(POLICY)


if __name__ == "__main__":
    unittest.main(verbosity=2)
