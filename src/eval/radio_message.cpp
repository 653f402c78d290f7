#include "eval/radio_message.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace slmtune::eval {
namespace {

struct Detail {
  const char* name;
  const char* nature;    // what the crew says is happening
  const char* pan_help;  // the help an urgency (PAN-PAN) call asks for
};

// The emergency_detail values of examples/maritime/functions.json.
const Detail kDetails[] = {
    {"Fire", "FIRE ON BOARD", "I REQUIRE ASSISTANCE"},
    {"Flooding", "TAKING ON WATER", "I REQUIRE ASSISTANCE"},
    {"Man Overboard", "MAN OVERBOARD", "I REQUIRE ASSISTANCE"},
    {"Medical Emergency", "MEDICAL EMERGENCY ON BOARD", "I REQUIRE MEDICAL ASSISTANCE"},
    {"Engine Failure", "ENGINE FAILURE", "I REQUIRE A TOW"},
    {"Lost Navigation", "LOSS OF NAVIGATION EQUIPMENT", "I REQUIRE ASSISTANCE WITH NAVIGATION"},
    {"Adrift", "ADRIFT AND UNABLE TO MANOEUVRE", "I REQUIRE A TOW"},
};

std::string string_argument(const functions::FunctionCall& call, const char* name) {
  auto it = call.arguments.find(name);
  if (it == call.arguments.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
    fail("{}: argument \"{}\": expected a non-empty string, got {}", call.name, name,
         it == call.arguments.end() ? "none" : it->dump());
  return it->get<std::string>();
}

std::string three_times(const std::string& word) { return word + " " + word + " " + word; }

}  // namespace

std::string to_upper_latin(const std::string& text) {
  std::string out = text;
  for (size_t i = 0; i < out.size(); ++i) {
    auto c = static_cast<unsigned char>(out[i]);
    if (c >= 'a' && c <= 'z') {
      out[i] = static_cast<char>(c - 'a' + 'A');
    } else if (c == 0xC3 && i + 1 < out.size()) {
      // U+00E0..U+00FE (à..þ) are two bytes C3 A0..BE; their capitals are C3 80..9E. U+00F7 (÷) has none.
      auto next = static_cast<unsigned char>(out[i + 1]);
      if (next >= 0xA0 && next <= 0xBE && next != 0xB7) out[i + 1] = static_cast<char>(next - 0x20);
      ++i;
    }
  }
  return out;
}

std::string format_radio_message(const functions::FunctionCall& call, const std::string& vessel) {
  if (call.name != kBroadcastFunction)
    fail("cannot speak a call to \"{}\": only {} has a radio message", call.name, kBroadcastFunction);
  if (vessel.empty()) fail("the radio message needs the vessel's name");
  if (!call.arguments.is_object()) fail("{}: arguments must be an object", call.name);
  const std::string location = string_argument(call, "location");
  const std::string detail = string_argument(call, "emergency_detail");
  const std::string type = string_argument(call, "emergency_type");
  const bool distress = type == "Mayday";
  const bool urgency = type == "PAN-PAN";
  const bool safety = type == "Securité";
  if (!distress && !urgency && !safety)
    fail("{}: argument \"emergency_type\": expected Mayday, PAN-PAN or Securité, got \"{}\"", call.name, type);

  std::string nature = to_upper_latin(detail);
  std::string pan_help = "I REQUIRE ASSISTANCE";
  for (const auto& d : kDetails) {
    if (detail == d.name) {
      nature = d.nature;
      pan_help = d.pan_help;
    }
  }
  const std::string name = to_upper_latin(vessel);
  std::string out;
  if (distress) {
    out += three_times("MAYDAY") + "\n";
    out += "THIS IS " + three_times(name) + "\n";
    out += "MAYDAY " + name + "\n";
  } else {
    out += three_times(urgency ? "PAN-PAN" : "SECURITÉ") + "\n";
    out += three_times("ALL STATIONS") + "\n";
    out += "THIS IS " + three_times(name) + "\n";
  }
  out += "MY POSITION IS " + location + "\n";
  out += nature + "\n";
  if (distress) out += "I REQUIRE IMMEDIATE ASSISTANCE\n";
  else if (urgency) out += pan_help + "\n";
  else out += "NO ASSISTANCE REQUIRED. VESSELS IN THE AREA KEEP A SHARP LOOKOUT\n";
  out += safety ? "OUT\n" : "OVER\n";
  return out;
}

}  // namespace slmtune::eval
