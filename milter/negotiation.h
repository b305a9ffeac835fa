// What mxtls-milter asks of the MTA when a connection starts: the protocol
// steps it skips and the macros it reads. One place, so that the
// benchmark's control milter (tests/bench/null_milter.cpp) asks exactly the
// same. Which steps get no reply depends on the settings: filter.cpp.
#pragma once
#include <libmilter/mfapi.h>

namespace mxtls {

// Only envelope steps matter: no HELO, headers, body or unknown commands.
inline constexpr unsigned long kSkippedSteps =
    SMFIP_NOHELO | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA;

// Asks for only the macros the callbacks read (when the MTA offered SMFIF_SETSYMLIST).
inline void request_macros(SMFICTX* ctx) {
  smfi_setsymlist(ctx, SMFIM_ENVFROM, const_cast<char*>("{auth_authen}"));
  smfi_setsymlist(ctx, SMFIM_ENVRCPT, const_cast<char*>("i {rcpt_addr}"));
  smfi_setsymlist(ctx, SMFIM_EOM, const_cast<char*>("i"));
}

}  // namespace mxtls
