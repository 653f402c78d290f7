// The spoken GMDSS messages, written out by hand from the procedure (ITU-R M.541 / IMO SMCP: the
// signal three times, THIS IS and the name three times, position, nature, help needed, OVER).
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "eval/radio_message.hpp"

namespace slmtune::eval {
namespace {

functions::FunctionCall broadcast(const char* arguments) {
  return functions::FunctionCall{"broadcast_emergency_message", Json::parse(arguments)};
}

TEST(RadioMessage, MaydayFlooding) {
  EXPECT_EQ(format_radio_message(broadcast(R"({"location": "42.3541N, 71.0654W", "emergency_detail": "Flooding", "emergency_type": "Mayday"})"),
                                 "Sea Breeze"),
            "MAYDAY MAYDAY MAYDAY\n"
            "THIS IS SEA BREEZE SEA BREEZE SEA BREEZE\n"
            "MAYDAY SEA BREEZE\n"
            "MY POSITION IS 42.3541N, 71.0654W\n"
            "TAKING ON WATER\n"
            "I REQUIRE IMMEDIATE ASSISTANCE\n"
            "OVER\n");
}

TEST(RadioMessage, PanPanEngineFailureAsksForATow) {
  EXPECT_EQ(format_radio_message(broadcast(R"({"emergency_type": "PAN-PAN", "emergency_detail": "Engine Failure", "location": "50°10'N 004°30'W"})"),
                                 "Kestrel"),
            "PAN-PAN PAN-PAN PAN-PAN\n"
            "ALL STATIONS ALL STATIONS ALL STATIONS\n"
            "THIS IS KESTREL KESTREL KESTREL\n"
            "MY POSITION IS 50°10'N 004°30'W\n"
            "ENGINE FAILURE\n"
            "I REQUIRE A TOW\n"
            "OVER\n");
}

TEST(RadioMessage, SecuriteIsANoticeThatEndsWithOut) {
  EXPECT_EQ(format_radio_message(broadcast(R"({"location": "1N, 2W", "emergency_detail": "Lost Navigation", "emergency_type": "Securité"})"),
                                 "Étoile"),
            "SECURITÉ SECURITÉ SECURITÉ\n"
            "ALL STATIONS ALL STATIONS ALL STATIONS\n"
            "THIS IS ÉTOILE ÉTOILE ÉTOILE\n"
            "MY POSITION IS 1N, 2W\n"
            "LOSS OF NAVIGATION EQUIPMENT\n"
            "NO ASSISTANCE REQUIRED. VESSELS IN THE AREA KEEP A SHARP LOOKOUT\n"
            "OUT\n");
}

TEST(RadioMessage, UnknownDetailIsSpokenAsGiven) {
  std::string m = format_radio_message(broadcast(R"({"location": "x", "emergency_detail": "Collision", "emergency_type": "PAN-PAN"})"), "a");
  EXPECT_NE(m.find("\nCOLLISION\nI REQUIRE ASSISTANCE\n"), std::string::npos) << m;
}

TEST(RadioMessage, BadCallsAreOneLineErrors) {
  const std::vector<std::pair<functions::FunctionCall, std::string>> cases = {
      {broadcast(R"({"emergency_detail": "Fire", "emergency_type": "Mayday"})"), "\"location\""},
      {broadcast(R"({"location": "", "emergency_detail": "Fire", "emergency_type": "Mayday"})"), "\"location\""},
      {broadcast(R"({"location": "x", "emergency_detail": 3, "emergency_type": "Mayday"})"), "\"emergency_detail\""},
      {broadcast(R"({"location": "x", "emergency_detail": "Fire", "emergency_type": "mayday"})"), "Mayday, PAN-PAN or Securité"},
      {functions::FunctionCall{"categorize_emergency", Json::parse(R"({"emergency_detail": "Fire"})")}, "categorize_emergency"},
  };
  for (const auto& [call, fragment] : cases) {
    try {
      format_radio_message(call, "Boat");
      ADD_FAILURE() << "expected an error for " << call.arguments.dump();
    } catch (const Error& e) {
      std::string message = e.what();
      EXPECT_NE(message.find(fragment), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
  EXPECT_THROW(format_radio_message(broadcast(R"({"location": "x", "emergency_detail": "Fire", "emergency_type": "Mayday"})"), ""), Error);
}

TEST(RadioMessage, UpperCaseOfLatinText) {
  EXPECT_EQ(to_upper_latin("Securité à bord, ÿ ÷ 1n"), "SECURITÉ À BORD, ÿ ÷ 1N");
}

}  // namespace
}  // namespace slmtune::eval
