#pragma once
// The voice message that broadcast_emergency_message stands for, in the GMDSS radiotelephony
// procedure (ITU-R M.541, IMO SMCP) a skipper would speak on VHF channel 16:
//
//   MAYDAY MAYDAY MAYDAY                 PAN-PAN ×3 / SECURITÉ ×3, then ALL STATIONS ×3
//   THIS IS <VESSEL> <VESSEL> <VESSEL>
//   MAYDAY <VESSEL>                      (distress only: the call repeated with the name once)
//   MY POSITION IS <location, verbatim>
//   <nature of distress>                 e.g. TAKING ON WATER
//   <assistance required>                e.g. I REQUIRE IMMEDIATE ASSISTANCE
//   OVER                                 (a SECURITÉ safety notice ends with OUT: it asks no reply)
//
// The location is copied character for character: rescuers must get exactly what the GPS gave.
#include <string>

#include "functions/function_call.hpp"

namespace slmtune::eval {

// The function whose call is spoken.
inline const char* const kBroadcastFunction = "broadcast_emergency_message";

// `call` is a broadcast_emergency_message call: "location" (a non-empty string), "emergency_detail"
// (one of the maritime enum values, or any other text, spoken in capitals) and "emergency_type"
// (Mayday, PAN-PAN or Securité). Fails with one line naming the argument otherwise. `vessel` is the
// boat's name (spoken in capitals); it must not be empty. Lines end with '\n'.
std::string format_radio_message(const functions::FunctionCall& call, const std::string& vessel);

// ASCII and Latin-1 letters in capitals ("Securité" → "SECURITÉ"); other bytes unchanged.
std::string to_upper_latin(const std::string& text);

}  // namespace slmtune::eval
