// config/: the INI tokenizer, typed parsing with file:line errors, and the
// agreement between the code's defaults and conf/mxtls.conf.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/config.h"
#include "config/ini.h"
#include "config/socket_address.h"

namespace mxtls {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_config(text, "test.conf");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Ini, ParsesSectionsKeysAndLines) {
  auto r = ini::parse("# comment\n[probe]\nport = 2525\n\n; other\n[dns]\nforwarder=127.0.0.1@5353 \n");
  auto& entries = std::get<std::vector<ini::Entry>>(r);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].section, "probe");
  EXPECT_EQ(entries[0].key, "port");
  EXPECT_EQ(entries[0].value, "2525");
  EXPECT_EQ(entries[0].line, 3);
  EXPECT_EQ(entries[1].value, "127.0.0.1@5353");
  EXPECT_EQ(entries[1].line, 7);
}

TEST(Ini, RejectsBrokenLinesWithTheirNumber) {
  EXPECT_EQ(std::get<ini::Error>(ini::parse("[probe]\nnot a pair\n")).line, 2);
  EXPECT_EQ(std::get<ini::Error>(ini::parse("[probe\n")).line, 1);
  EXPECT_EQ(std::get<ini::Error>(ini::parse("[probe]\nport = 1\x01\n")).line, 2);
  EXPECT_EQ(std::get<ini::Error>(ini::parse(std::string(5000, 'x'))).line, 1);
}

TEST(Config, ReadsTypedValues) {
  const auto c = parse_config("[probe]\nport = 2525\nallow_private_targets = yes\nconnect_timeout = 1500ms\n"
                              "[tls]\nprofile = custom\nsecurity_level = secure\n",
                              "t");
  EXPECT_EQ(c.probe.port, 2525);
  EXPECT_TRUE(c.probe.allow_private_targets);
  EXPECT_EQ(c.probe.connect_timeout->value, std::chrono::milliseconds(1500));
  EXPECT_EQ(c.tls.profile, "custom");
  EXPECT_EQ(c.tls.security_level, "secure");
}

TEST(Config, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of("[probe]\n\nbogus = 1\n"), "test.conf:3: unknown key 'bogus' in [probe]");
  EXPECT_NE(error_of("[probe]\nport = 70000\n").find("test.conf:2: bad value '70000' for 'probe.port'"), std::string::npos);
  EXPECT_NE(error_of("[probe]\nport = twenty\n").find("test.conf:2: bad value 'twenty'"), std::string::npos);
  EXPECT_NE(error_of("[probe]\nconnect_timeout = 5 parsecs\n").find("test.conf:2:"), std::string::npos);
  EXPECT_NE(error_of("[tls]\nprofile = exim\n").find("must be one of"), std::string::npos);
  EXPECT_EQ(error_of("port = 25\n"), "test.conf:1: key 'port' outside any [section]");
  EXPECT_EQ(error_of("[probe]\nport = 25\nport = 26\n"), "test.conf:3: 'probe.port' set twice");
}

TEST(Config, SurveyTakesWhenNotABoolean) {
  EXPECT_EQ(Config{}.probe.survey, "on-failure");
  EXPECT_EQ(parse_config("[probe]\nsurvey = always\n", "t").probe.survey, "always");
  EXPECT_EQ(parse_config("[probe]\nsurvey = no\n", "t").probe.survey, "no");
  EXPECT_EQ(parse_config("[probe]\nsurvey = yes\n", "t").probe.survey, "always");  // the old boolean
  EXPECT_NE(error_of("[probe]\nsurvey = sometimes\n").find("'probe.survey' must be one of: always, no, on-failure, yes"),
            std::string::npos);
}

TEST(Duration, ParsesUnitsAndBounds) {
  EXPECT_EQ(parse_duration("5")->value, std::chrono::seconds(5));
  EXPECT_EQ(parse_duration("250ms")->value, std::chrono::milliseconds(250));
  EXPECT_EQ(parse_duration("2m")->value, std::chrono::minutes(2));
  EXPECT_EQ(parse_duration("1d")->value, std::chrono::hours(24));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_TRUE(parse_duration("400d"));
  EXPECT_FALSE(parse_duration("401d"));
  EXPECT_FALSE(parse_duration("5 s"));
  EXPECT_FALSE(parse_duration("99999999999999999999"));
}

// conf/mxtls.conf documents every key, commented out, with its default.
// Uncommenting those lines must give exactly the code's defaults, and the
// file must name every key the code knows (and no other).
TEST(Config, SocketAddresses) {
  const auto unix_socket = parse_socket_address("unix:/run/mxtls/policy.sock", "policy.listen");
  EXPECT_TRUE(unix_socket.unix_socket);
  EXPECT_EQ(unix_socket.path, "/run/mxtls/policy.sock");
  const auto v4 = parse_socket_address("inet:127.0.0.1:10045", "milter.engine");
  EXPECT_EQ(v4.address, "127.0.0.1");
  EXPECT_EQ(v4.port, 10045);
  const auto v6 = parse_socket_address("inet:[::1]:10045", "milter.engine");
  EXPECT_EQ(v6.address, "::1");
  for (const char* bad : {"unix:relative.sock", "inet:127.0.0.1", "inet:127.0.0.1:0", "inet:127.0.0.1:x",
                          "inet:localhost:25", "tcp:127.0.0.1:25", ""}) {
    try {
      parse_socket_address(bad, "milter.engine");
      ADD_FAILURE() << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("milter.engine"), std::string::npos) << e.what();
    }
  }
}

TEST(Config, DocumentedDefaultsMatchTheCode) {
  std::ifstream in(MXTLS_SOURCE_DIR "/conf/mxtls.conf");
  ASSERT_TRUE(in) << "cannot open conf/mxtls.conf";
  std::stringstream uncommented;
  std::set<std::string> documented;
  std::string section, line;
  const std::regex key_line(R"(^#([a-z_]+) =( (.*))?$)");
  const std::regex section_line(R"(^\[([a-z_]+)\]$)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, section_line)) {
      section = m[1];
      uncommented << line << "\n";
    } else if (std::regex_match(line, m, key_line)) {
      documented.insert(section + "." + m[1].str());
      uncommented << m[1] << " = " << m[3] << "\n";
    }
  }
  EXPECT_EQ(parse_config(uncommented.str(), "conf/mxtls.conf (uncommented)"), Config{});
  const auto keys = config_keys();
  EXPECT_EQ(documented, std::set<std::string>(keys.begin(), keys.end()));
}

}  // namespace
}  // namespace mxtls
