// address/domain: the one normalizer of destination domains.
#include <gtest/gtest.h>

#include "address/domain.h"

namespace mxtls {
namespace {

TEST(Domain, DestinationDomainsOfAddressesAndKeys) {
  EXPECT_EQ(recipient_domain("User@Example.COM."), "example.com");
  EXPECT_EQ(recipient_domain("\"a@b\"@c.example"), "c.example");
  EXPECT_EQ(recipient_domain("postmaster"), "");
  EXPECT_EQ(recipient_domain("user@[192.0.2.1]"), "");
  EXPECT_EQ(recipient_domain("user@"), "");
  EXPECT_EQ(mail_domain("Example.NET"), "example.net");
  EXPECT_EQ(mail_domain("bad domain"), "");
}

}  // namespace
}  // namespace mxtls
