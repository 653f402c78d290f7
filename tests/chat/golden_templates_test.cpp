// Every case in ../shared/testdata/chat-templates/goldens/*.json, rendered by Python's Jinja2 in
// Hugging Face's chat-template environment, must come out byte for byte (or fail where Python did).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "chat/jinja/template.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "formats/json.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using slmtune::testing::testdata;

namespace {

std::vector<std::string> golden_files() {
  std::vector<std::string> names;
  const auto dir = testdata("chat-templates/goldens");
  if (!std::filesystem::exists(dir)) return names;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::filesystem::path template_path(const std::string& file) {
  for (const char* dir : {"chat-templates/llama.cpp/", "chat-templates/hf-tokenizer-configs/"}) {
    auto p = testdata(std::string(dir) + file);
    if (std::filesystem::exists(p)) return p;
  }
  return {};
}

// The fixed clock the goldens were rendered with: 2024-07-26 10:30:00.
std::tm golden_clock() {
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 6;
  tm.tm_mday = 26;
  tm.tm_hour = 10;
  tm.tm_min = 30;
  tm.tm_wday = 5;
  tm.tm_yday = 207;
  return tm;
}

std::string first_difference(const std::string& expected, const std::string& actual) {
  size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  const size_t from = i > 60 ? i - 60 : 0;
  return "at byte " + std::to_string(i) + "\n  expected: " + Json(expected.substr(from, 160)).dump() +
         "\n  actual:   " + Json(actual.substr(from, 160)).dump();
}

class GoldenTemplate : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTemplate, RendersEveryCaseAsJinja2) {
  const Json golden = read_json_file(testdata("chat-templates/goldens/" + GetParam() + ".json"));
  const auto path = template_path(golden.at("template").get<std::string>());
  ASSERT_FALSE(path.empty()) << "template file not found for " << GetParam();
  const jinja::Template tmpl(read_file(path), path.filename().string());
  jinja::RenderOptions options;
  options.clock = golden_clock;
  int passed = 0, failed = 0;
  for (const auto& c : golden.at("cases")) {
    const std::string name = c.at("name").get<std::string>();
    std::string actual, error;
    try {
      actual = tmpl.render(c.at("context"), options);
    } catch (const slmtune::Error& e) {
      error = e.what();
    }
    bool ok;
    if (c.contains("error")) {
      ok = !error.empty();
      EXPECT_TRUE(ok) << GetParam() << " / " << name << ": expected an error like '" << c.at("error").get<std::string>()
                      << "', rendered instead";
    } else {
      const std::string expected = c.at("output").get<std::string>();
      ok = error.empty() && actual == expected;
      EXPECT_TRUE(ok) << GetParam() << " / " << name << ": "
                      << (error.empty() ? first_difference(expected, actual) : "unexpected error: " + error);
    }
    (ok ? passed : failed)++;
  }
  std::printf("[ golden   ] %-55s %2d passed, %d failed\n", GetParam().c_str(), passed, failed);
}

INSTANTIATE_TEST_SUITE_P(AllTemplates, GoldenTemplate, ::testing::ValuesIn(golden_files()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

TEST(GoldenTemplates, AllGoldenFilesArePresent) { EXPECT_EQ(golden_files().size(), 61u); }

}  // namespace
