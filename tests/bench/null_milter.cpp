// Benchmark tool (on demand): the control for milter_bench. A libmilter
// milter that asks the MTA for exactly the steps mxtls-milter asks for when
// it inspects every message (no reply to connect nor to MAIL, RCPT
// answered, end of message adding one header, the same macros) and does
// no work in them: what the milter protocol, libmilter and the MTA's side
// of it cost, without ours.
//   usage: mxtls-bench-null-milter unix:PATH
// Prints "messages N" (ends of message seen) when it stops.
#include <libmilter/mfapi.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>

#include "negotiation.h"

namespace {

sfsistat on_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long, unsigned long, unsigned long* pf0,
                      unsigned long* pf1, unsigned long* pf2, unsigned long* pf3) {
  *pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_SETSYMLIST);
  *pf1 = f1 & (mxtls::kSkippedSteps | SMFIP_NR_CONN | SMFIP_NR_MAIL);  // ours with inspect = all
  if (*pf0 & SMFIF_SETSYMLIST) mxtls::request_macros(ctx);
  *pf2 = *pf3 = 0;
  // The steps left without a reply, kept as the connection's private value.
  smfi_setpriv(ctx, reinterpret_cast<void*>(static_cast<uintptr_t>(*pf1 & (SMFIP_NR_CONN | SMFIP_NR_MAIL))));
  return SMFIS_CONTINUE;
}

sfsistat reply_unless(SMFICTX* ctx, unsigned long no_reply_step) {
  return reinterpret_cast<uintptr_t>(smfi_getpriv(ctx)) & no_reply_step ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}
sfsistat on_connect(SMFICTX* ctx, char*, _SOCK_ADDR*) { return reply_unless(ctx, SMFIP_NR_CONN); }
sfsistat on_envfrom(SMFICTX* ctx, char**) { return reply_unless(ctx, SMFIP_NR_MAIL); }
sfsistat on_envrcpt(SMFICTX*, char**) { return SMFIS_CONTINUE; }
std::atomic<long> g_messages{0};  // ends of message seen: the bench checks it saw them all

sfsistat on_eom(SMFICTX* ctx) {
  ++g_messages;
  smfi_addheader(ctx, const_cast<char*>("X-MXTLS"), const_cast<char*>("healthy12.test=ok"));
  return SMFIS_CONTINUE;
}
sfsistat on_close(SMFICTX* ctx) {
  smfi_setpriv(ctx, nullptr);
  return SMFIS_CONTINUE;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: mxtls-bench-null-milter unix:PATH\n");
    return 2;
  }
  smfiDesc desc{};
  desc.xxfi_name = const_cast<char*>("mxtls-bench-null-milter");
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_SETSYMLIST;
  desc.xxfi_connect = on_connect;
  desc.xxfi_envfrom = on_envfrom;
  desc.xxfi_envrcpt = on_envrcpt;
  desc.xxfi_eom = on_eom;
  desc.xxfi_close = on_close;
  desc.xxfi_negotiate = on_negotiate;
  std::string socket = argv[1];
  if (smfi_setconn(socket.data()) == MI_FAILURE || smfi_register(desc) == MI_FAILURE || smfi_opensocket(true) == MI_FAILURE) {
    std::fprintf(stderr, "mxtls-bench-null-milter: cannot use %s\n", argv[1]);
    return 1;
  }
  const int status = smfi_main() == MI_SUCCESS ? 0 : 1;
  std::printf("messages %ld\n", g_messages.load());
  return status;
}
