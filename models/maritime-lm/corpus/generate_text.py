#!/usr/bin/env python3
"""Writes the English half of the bundled model's pretraining corpus: maritime radio and boating text
built from templates (VHF procedure, distress/urgency/safety calls in GMDSS form, weather bulletins,
seamanship notes, and emergencies told in many voices). Seeded, so the same seed gives the same file.

    python3 generate_text.py --seed 1 --documents 6000 --out text.txt

Documents are separated by a line holding only <|endoftext|>, which `slmtune pretrain` splits on.
Nothing here is copied from a publication; every sentence is written for this corpus.

Positions are drawn at random for every call and story (examples/maritime/data/positions.py), and the
station reading a call back repeats the position, as a coastguard does: a fixed list of positions
would teach the model to recall them, where the assistant must copy the one it is given.
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../examples/maritime/data"))
from positions import random_position  # noqa: E402

VESSELS = ["Sea Breeze", "Blue Heron", "Morning Star", "Kittiwake", "Northern Light", "Osprey", "Wanderer",
           "Saltwater Dream", "Halcyon", "Puffin", "Celtic Rose", "Albatross", "Skylark", "Gannet", "Marlin",
           "Tern", "Odyssey", "Serenity", "Dolphin", "Stormy Petrel", "Mistral", "Aurora", "Curlew", "Nautilus"]
STATIONS = ["Falmouth Coastguard", "Solent Coastguard", "Boston Coast Guard", "MRCC Gibraltar", "Tarifa Traffic",
            "Bremen Rescue", "MRCC Marseille", "Sydney Radio", "Miami Coast Guard", "Stornoway Coastguard",
            "MRCC Lisbon", "Valencia Radio", "Halifax Coast Guard Radio", "Tallinn Rescue"]
CALLSIGNS = ["MXYZ4", "2ABC7", "WDE3321", "EA5FG", "DK7PQ", "VJ4821", "FQ2RS", "LA9TB", "OZ3KW", "SV1ND"]
AREAS = ["Plymouth", "Portland", "Biscay", "Fitzroy", "German Bight", "Dover", "Thames", "Lundy", "Fastnet",
         "Irish Sea", "Malin", "Gulf of Lion", "Alboran", "the Sound", "Cape Cod Bay", "Georges Bank"]
WINDS = ["northwest", "southwest", "northerly", "easterly", "westerly", "southerly", "northeast", "variable",
         "southeast", "cyclonic"]
SEA_STATES = ["smooth", "slight", "moderate", "rough", "very rough", "high", "slight or moderate",
              "moderate or rough"]
WEATHER = ["fair", "rain", "showers", "drizzle", "thundery showers", "fog patches", "squally showers", "rain later"]
VISIBILITY = ["good", "moderate", "poor", "good, occasionally poor", "very poor in fog", "moderate or good"]
PEOPLE = ["two adults", "three adults and a child", "four persons", "one person", "five persons",
          "two adults and two children", "six crew", "three persons"]
BOAT_TYPES = ["a 32-foot sailing yacht", "a 9-metre motor cruiser", "a white ketch", "a blue-hulled sloop",
              "a small fishing boat", "a rigid inflatable", "a 40-foot catamaran", "an open motorboat",
              "a wooden gaff cutter", "a grey motor launch"]
LANDMARK_POSITIONS = ["two miles south of the headland", "one mile east of the harbour entrance",
                      "half a mile off the lighthouse", "three miles west of the point"]
DETAILS = {
    "Fire": ["fire in the engine room", "a galley fire that is spreading", "an electrical fire below deck",
             "the outboard on fire", "smoke and flames from the cabin"],
    "Flooding": ["taking on water fast", "a hole in the hull", "flooding through a broken seacock",
                 "water over the floorboards", "sinking after hitting a rock"],
    "Man Overboard": ["a person in the water", "a crew member lost overboard", "a child fallen over the side",
                      "the skipper washed overboard"],
    "Medical Emergency": ["an unconscious casualty", "a crew member with chest pain", "a casualty not breathing",
                          "severe bleeding from a leg wound", "a broken arm", "a crew member with a high fever",
                          "a burn to the hand", "a casualty with a head injury"],
    "Engine Failure": ["engine failure", "a broken engine", "a seized engine", "fuel contamination and no engine"],
    "Adrift": ["a broken rudder", "steering failure", "a dismasting", "a fouled propeller", "a dragging anchor"],
    "Lost Navigation": ["loss of GPS", "a failed chartplotter", "a broken compass", "no navigation electronics"],
}
MAYDAY_MEDICAL = DETAILS["Medical Emergency"][:4]
PANPAN_MEDICAL = DETAILS["Medical Emergency"][4:]
ASSISTANCE = ["immediate assistance", "a tow", "medical advice", "evacuation of a casualty", "a lifeboat",
              "helicopter assistance", "a pump", "an escort to harbour"]


def draw_position(r):
    # Mostly a GPS reading never seen before; sometimes a position given by a landmark.
    return r.choice(LANDMARK_POSITIONS) if r.random() < 0.15 else random_position(r)


def spell_position(position):
    return position


def mayday(r, vessel, callsign, detail, position):
    name = " ".join([vessel.upper()] * 3)
    return (f"MAYDAY MAYDAY MAYDAY\nTHIS IS {name}, call sign {callsign}\nMAYDAY {vessel.upper()}\n"
            f"MY POSITION IS {spell_position(position)}\nI HAVE {detail.upper()}\n"
            f"I REQUIRE {r.choice(ASSISTANCE).upper()}\nI HAVE {r.choice(PEOPLE).upper()} ON BOARD\n"
            f"{r.choice(BOAT_TYPES).upper()}\nOVER")


def panpan(r, vessel, callsign, detail, position):
    station = r.choice(STATIONS)
    return (f"PAN-PAN PAN-PAN PAN-PAN\nALL STATIONS ALL STATIONS ALL STATIONS\nTHIS IS {vessel.upper()} "
            f"{vessel.upper()} {vessel.upper()}\nMY POSITION IS {position}\n{detail.upper()}\n"
            f"I REQUIRE {r.choice(ASSISTANCE).upper()}\n{r.choice(PEOPLE).upper()} ON BOARD\nOVER\n\n"
            f"{vessel}, this is {station}. Received your PAN-PAN in position {position}. Stand by on channel 16.")


def securite(r, vessel, detail, position):
    return (f"SECURITÉ SECURITÉ SECURITÉ\nALL STATIONS ALL STATIONS ALL STATIONS\nTHIS IS {vessel.upper()}\n"
            f"{detail.upper()} IN POSITION {position}\nVESSELS IN THE AREA KEEP A GOOD LOOKOUT\nOUT")


def radio_call(r):
    vessel, callsign = r.choice(VESSELS), r.choice(CALLSIGNS)
    position = draw_position(r)
    kind = r.random()
    # The call fits the situation as POLICY.md grades it, so the corpus never teaches a wrong pairing.
    if kind < 0.45:
        detail = r.choice(DETAILS[r.choice(["Fire", "Flooding", "Man Overboard"])] + MAYDAY_MEDICAL)
        text = mayday(r, vessel, callsign, detail, position)
        if r.random() < 0.6:
            text += (f"\n\nMAYDAY {vessel.upper()} THIS IS {r.choice(STATIONS).upper()} RECEIVED MAYDAY. "
                     f"YOUR POSITION {position}. Rescue is on its way. Put on lifejackets and stay on channel 16.")
        return text
    if kind < 0.8:
        detail = r.choice(DETAILS[r.choice(["Engine Failure", "Adrift"])] + PANPAN_MEDICAL)
        return panpan(r, vessel, callsign, detail, position)
    return securite(r, vessel, r.choice(DETAILS["Lost Navigation"]), position)


def routine_call(r):
    a, b = r.sample(VESSELS, 2)
    channel = r.choice(["6", "8", "72", "77", "67", "69"])
    lines = [f"{b}, {b}, this is {a}, {a}, on channel 16. Over.",
             f"{a}, this is {b}. Go to channel {channel}. Over.",
             f"Channel {channel}. Over."]
    topic = r.choice([f"we are anchored in the bay for the night and will leave at {r.randint(5, 10)} in the morning",
                      f"the wind is picking up from the {r.choice(WINDS)}, we are heading back to port",
                      "do you have a spare fuel filter on board", "can you see the buoy at the entrance",
                      f"we will meet you at the marina at {r.randint(1, 11)} o'clock"])
    lines += [f"{b}, this is {a} on {channel}. {topic.capitalize()}. Over.",
              f"{a}, this is {b}. Understood. {r.choice(['Thank you', 'Roger', 'Copied'])}. "
              f"{b} back to 16. Out."]
    return "\n".join(lines)


def forecast(r):
    area = r.choice(AREAS)
    lo = r.randint(2, 6)
    return (f"Shipping forecast for {area}. {r.choice(WINDS).capitalize()} {lo} to {lo + r.randint(1, 2)}, "
            f"{r.choice(['occasionally', 'perhaps', 'becoming'])} {min(lo + 2, 10)} later. Sea state "
            f"{r.choice(SEA_STATES)}. {r.choice(WEATHER).capitalize()}. Visibility {r.choice(VISIBILITY)}.")


SEAMANSHIP = [
    "Before leaving harbour, check the weather forecast, the fuel, the bilge and the lifejackets, and tell someone ashore where you are going and when you will be back.",
    "Channel 16 is the international distress, safety and calling channel. Keep a listening watch on it whenever the radio is on.",
    "A Mayday call is for grave and imminent danger to a vessel or a person. It has priority over all other radio traffic.",
    "A PAN-PAN call is urgent but not immediately life-threatening: an engine failure far from danger, an injured crew member who is conscious, a vessel that needs a tow.",
    "A Securité call warns other vessels of a hazard to navigation or a safety matter, such as a lost container or a vessel without navigation.",
    "If someone falls overboard, shout man overboard, throw a lifebuoy, point at the person and never lose sight of them, then press the distress button and call Mayday.",
    "When fighting a fire on board, shut off the fuel, close hatches to starve the fire of air and use the extinguisher at the base of the flames.",
    "If you are taking on water, find the leak, start the pumps and plug the hole with anything you have, then call for help before the situation gets worse.",
    "A vessel without an engine in a shipping lane is in grave danger: large ships cannot stop or turn quickly.",
    "If the engine fails, drop the anchor if the water is shallow enough, so that the boat does not drift onto rocks.",
    "When giving your position on the radio, read it from the GPS exactly: latitude first, then longitude.",
    "Wear a lifejacket on deck at night, in rough weather and whenever you are alone on watch.",
    "Seasickness is miserable but rarely dangerous. Keep the person warm, give small sips of water and watch for dehydration.",
    "A casualty who is not breathing needs CPR at once. Call Mayday, because life is in immediate danger.",
    "Severe bleeding must be stopped with firm pressure on the wound. Raise the limb and call for help.",
    "A sprained wrist or a small burn can wait for advice: a PAN-PAN or a medical call is enough.",
    "If the chartplotter fails but the crew is safe and the weather is good, navigate with paper charts and a compass and warn other vessels.",
    "When you are lost and running low on fuel or daylight, ask for help early rather than late.",
    "A dragging anchor at night can put a boat on the rocks within minutes. Set an anchor alarm.",
    "Tie a bowline to make a fixed loop at the end of a line. It does not slip and is easy to untie.",
    "Red is to port and green is to starboard. A vessel showing you her red light has the right of way.",
    "The flood tide runs into the estuary for about six hours, then the ebb runs out again.",
    "A broken rudder leaves a boat adrift. Rig an emergency tiller or a drogue and ask for a tow.",
    "Never send a Mayday for a situation that is not grave: it takes rescue boats away from people who need them.",
    "After a false alarm, cancel it on the same channel so that the rescue services stand down.",
]

VOICES = [
    "I was on watch when {who} shouted that there was {detail}. We were at {position} and {people} were on board.",
    "It happened just after sunset: {detail}, about {miles} miles from the coast. The skipper grabbed the radio.",
    "Log entry, {time}: {detail}. Position {position}. Crew informed, radio call made.",
    "We had {detail} and nobody knew what to do at first. Then {who} remembered the training and we called the coastguard.",
    "The coastguard report says the yacht reported {detail} at {position} and needed {assistance}.",
    "help us we have {detail} please someone answer",
    "Our first season on the water and we already had {detail}. Lesson learned: check everything before you go.",
]


def story(r):
    kind = r.choice(list(DETAILS))
    return r.choice(VOICES).format(
        who=r.choice(["the skipper", "my wife", "my son", "a crew member", "the navigator", "my friend"]),
        detail=r.choice(DETAILS[kind]), position=draw_position(r), people=r.choice(PEOPLE),
        miles=r.randint(1, 20), time=f"{r.randint(0, 23):02d}{r.randint(0, 59):02d}",
        assistance=r.choice(ASSISTANCE))


def document(r):
    parts = []
    for _ in range(r.randint(1, 4)):
        pick = r.random()
        if pick < 0.3:
            parts.append(radio_call(r))
        elif pick < 0.45:
            parts.append(routine_call(r))
        elif pick < 0.6:
            parts.append(forecast(r))
        elif pick < 0.8:
            parts.append(" ".join(r.sample(SEAMANSHIP, r.randint(1, 3))))
        else:
            parts.append(story(r))
    return "\n\n".join(parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--documents", type=int, default=6000)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    r = random.Random(args.seed)
    with open(args.out, "w", encoding="utf-8") as f:
        for i in range(args.documents):
            if i:
                f.write("\n<|endoftext|>\n")
            f.write(document(r))
        f.write("\n")


if __name__ == "__main__":
    main()
