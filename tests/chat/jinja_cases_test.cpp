// One small template per statement, expression, test, filter, method and global, each rendered by
// Python's Jinja2 3.1 in Hugging Face's environment (tests/chat/make_jinja_cases.py wrote
// jinja_cases.json). Our engine must give the same bytes, or fail where Jinja2 failed.
#include <gtest/gtest.h>

#include "chat/jinja/template.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "support/test_support.hpp"

using namespace slmtune;

namespace {

const Json& cases_file() {
  static const Json cases = read_json_file(slmtune::testing::source_dir() / "tests/chat/jinja_cases.json");
  return cases;
}

std::tm fixed_clock() {
  std::tm tm{};
  tm.tm_year = 124;
  tm.tm_mon = 6;
  tm.tm_mday = 26;
  tm.tm_hour = 10;
  tm.tm_min = 30;
  tm.tm_wday = 5;
  tm.tm_yday = 207;
  return tm;
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& c : cases_file().at("cases")) names.push_back(c.at("name").get<std::string>());
  return names;
}

class JinjaCase : public ::testing::TestWithParam<std::string> {};

TEST_P(JinjaCase, MatchesPythonJinja2) {
  const Json* found = nullptr;
  for (const auto& c : cases_file().at("cases"))
    if (c.at("name") == GetParam()) found = &c;
  ASSERT_NE(found, nullptr);
  const Json& c = *found;
  jinja::RenderOptions options;
  options.clock = fixed_clock;
  std::string output, error;
  try {
    output = jinja::Template(c.at("template").get<std::string>(), GetParam()).render(cases_file().at("context"), options);
  } catch (const slmtune::Error& e) {
    error = e.what();
  }
  if (c.contains("error")) {
    EXPECT_FALSE(error.empty()) << "Jinja2 failed with \"" << c.at("error").get<std::string>() << "\" but we rendered "
                                << Json(output).dump();
  } else {
    EXPECT_EQ(error, "");
    EXPECT_EQ(output, c.at("output").get<std::string>());
  }
}

INSTANTIATE_TEST_SUITE_P(Jinja2Reference, JinjaCase, ::testing::ValuesIn(case_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
