"""mxtls-milter with the real Sendmail (8.17, Debian's build, unpacked by
tests/setup-debian12 beside Postfix) as INPUT_MAIL_FILTER, with
mxtls-policyd in the lab: per-recipient tempfail, the verdict header on
delivered mail, quarantine, and log lines carrying Sendmail's queue id.
Runs inside tests/lab/netns-run; the lab lives under /run because Sendmail
refuses a milter socket below a world-writable directory such as /tmp.

usage: milter_sendmail_test.py BUILD_DIR"""

import smtplib
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, wait_for  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
lab = None


def setUpModule():
    global lab
    lab = Lab(Path("/run/mxtls-lab-sendmail"), BUILD)
    unittest.addModuleCleanup(lab.stop)  # runs even when setUpModule fails
    lab.start()
    lab.start_policyd("domain_actions = starttls454.test:hold")
    for domain in ["healthy12.test", "nostarttls.test", "starttls454.test"]:
        lab.learn(domain)
    lab.start_milter()
    lab.start_sendmail()



def submit(recipients, subject):
    """One message to Sendmail; returns ({recipient: (code, text)}, queue id)."""
    replies = {}
    with smtplib.SMTP("127.0.0.1", lab.SENDMAIL_PORT, timeout=30) as s:
        s.ehlo("client.lab.test")
        s.mail("sender@lab.test")
        for r in recipients:
            code, text = s.rcpt(r)
            replies[r] = (code, text.decode(errors="replace"))
        code, text = s.data(f"Subject: {subject}\r\n\r\nbody\r\n".encode())
        queue_id = text.decode().split()[1] if code == 250 else None
    return replies, queue_id


class SendmailMilter(unittest.TestCase):
    def test_tempfail_header_and_queue_id(self):
        replies, qid = submit(["user@nostarttls.test", "user@healthy12.test"], "sendmail mixed")
        code, text = replies["user@nostarttls.test"]
        self.assertEqual(code, 450)
        self.assertIn("4.7.5", text)
        self.assertIn("starttls_not_offered", text)
        self.assertEqual(replies["user@healthy12.test"][0], 250)
        msg = wait_for(lambda: next((m for m in lab.delivered_messages("healthy12") if "sendmail mixed" in m), None),
                       what="Sendmail's delivery to healthy12.test")
        self.assertIn("X-MXTLS: healthy12.test=ok", msg)
        self.assertIn("by mta.lab.test (8.17", msg)  # it really went through Sendmail
        wait_for(lambda: f"{qid}: to=<user@healthy12.test>, domain=healthy12.test, verdict=ok" in lab.milter_log_text(),
                 what="a milter log line with Sendmail's queue id")

    def test_inspecting_all_mail(self):
        # inspect = all: Sendmail waits for no reply to MAIL (the milter
        # negotiates none); recipients are judged and logged as before.
        lab.stop_milter()
        lab.start_milter("inspect = all")
        try:
            replies, qid = submit(["user@nostarttls.test", "all@healthy12.test"], "sendmail inspect all")
            self.assertEqual(replies["user@nostarttls.test"][0], 450)
            self.assertEqual(replies["all@healthy12.test"][0], 250)
            msg = wait_for(lambda: next((m for m in lab.delivered_messages("healthy12") if "sendmail inspect all" in m),
                                        None), what="Sendmail's delivery to healthy12.test")
            self.assertIn("X-MXTLS: healthy12.test=ok", msg)
            wait_for(lambda: f"{qid}: to=<all@healthy12.test>, domain=healthy12.test, verdict=ok" in lab.milter_log_text(),
                     what="a milter log line with Sendmail's queue id")
        finally:
            lab.stop_milter()
            lab.start_milter()

    def test_annotating_only(self):
        # defer_recipients = no: Sendmail waits for no reply to RCPT either;
        # what the engine would defer is accepted and named in the header.
        lab.stop_milter()
        lab.start_milter("inspect = all\ndefer_recipients = no")
        try:
            replies, qid = submit(["user@nostarttls.test", "annotated@healthy12.test"], "sendmail annotate only")
            self.assertEqual([c for c, _ in replies.values()], [250, 250])
            msg = wait_for(lambda: next((m for m in lab.delivered_messages("healthy12") if "sendmail annotate only" in m),
                                        None), what="Sendmail's delivery to healthy12.test")
            self.assertIn("X-MXTLS: nostarttls.test=incompatible(starttls_not_offered); healthy12.test=ok", msg)
            wait_for(lambda: f"{qid}: to=<user@nostarttls.test>, domain=nostarttls.test, verdict=incompatible, "
                             "reason=starttls_not_offered, action=defer(not applied), note=accepted (milter defer_recipients = no)"
                             in lab.milter_log_text(), what="a milter log line with Sendmail's queue id")
        finally:
            lab.stop_milter()
            lab.start_milter()

    def test_quarantine(self):
        replies, qid = submit(["user@starttls454.test"], "sendmail hold")
        self.assertEqual(replies["user@starttls454.test"][0], 250)
        queue = lab.dir / "sendmail" / "queue"
        # Sendmail keeps a quarantined message as hf<id> instead of qf<id>.
        wait_for(lambda: (queue / f"hf{qid}").exists(), what="the quarantined queue file")
        self.assertIn("mxtls: TLS to starttls454.test starttls_refused", (queue / f"hf{qid}").read_text(errors="replace"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
