#!/usr/bin/python3
# Thirty fresh queries written on 2026-12-06 while the bundled model (models/maritime-lm) was being
# pretrained, before any fine-tuned model was evaluated on them. They were never used for training,
# tuning or choosing anything: they measure the assistant on sentences and GPS positions nobody tuned
# for. No query is in the pretraining corpus's synthetic chats (compared after normalising case and
# punctuation, as `data synth` deduplicates), and every GPS position is new: in none of the other
# splits and not in the corpus's position list. Labels follow ../POLICY.md.
# Run from this folder: python3 fresh.py   (writes fresh.csv, read by `slmtune eval --data`)
import make_csv

FRESH = [
    ("smoke pouring out from under the cockpit floor, i think the wiring is burning", "Fire", "Mayday", "39.1120N, 2.9841E"),
    ("FIRE ON BOARD!!! the dinghy outboard exploded", "Fire", "Mayday", "54.2204N, 10.1517E"),
    ("gas bottle leak caught fire in the kitchen pls", "Fire", "Mayday", "-37.8409, 144.9466"),
    ("hole in the bow after we hit a container, water rising fast", "Flooding", "Mayday", "46.1589N, 1.1520W"),
    ("the boat is going down, water is up to our knees", "Flooding", "Mayday", "34.0522N, 119.2437W"),
    ("we are sink!! water come inside very much", "Flooding", "Mayday", "37°58.2'N 23°43.6'E"),
    ("my dad went over the rail and I cant see him", "Man Overboard", "Mayday", "44.4056N, 8.9463E"),
    ("child fell off the back of the boat into the sea", "Man Overboard", "Mayday", "27.9506N, 82.4572W"),
    ("MOB MOB crew lost in the waves", "Man Overboard", "Mayday", "58.9700N, 5.7331E"),
    ("my wife is not breathing, she was stung by a bee and her face is swelling", "Medical Emergency", "Mayday", "41.9028N, 12.4964E"),
    ("skipper collapsed at the wheel, no pulse", "Medical Emergency", "Mayday", "-33.9249, 18.4241"),
    ("deep cut on his leg, blood everywhere and it will not stop", "Medical Emergency", "Mayday", "52.3676N, 4.9041E"),
    ("my son burned his hand on the stove, it hurts a lot", "Medical Emergency", "PAN-PAN", "36.7213N, 4.4214W"),
    ("crew member has a high fever and feels weak", "Medical Emergency", "PAN-PAN", "53.3498N, 6.2603W"),
    ("i think i broke my toe on the winch", "Medical Emergency", "PAN-PAN", "N 43 42.1 E 7 15.8"),
    ("engine stopped and won't restart, we are anchored and ok", "Engine Failure", "PAN-PAN", "45.8150N, 15.9819E"),
    ("motor overheated and died, calm sea, need a tow please", "Engine Failure", "PAN-PAN", "32.0853N, 34.7818E"),
    ("no engine and the tide is pushing us onto the rocks!!", "Engine Failure", "Mayday", "50.7184N, 1.8806W"),
    ("engine dead in the shipping channel and a tanker is coming at us", "Engine Failure", "Mayday", "51.9496N, 1.3312E"),
    ("anchor dragged in the night and we are drifting, no steering", "Adrift", "PAN-PAN", "38.9072N, 1.4300E"),
    ("steering cable broke, we go in circles", "Adrift", "PAN-PAN", "40.8518N, 14.2681E"),
    ("mast is down and we are drifting toward the reef, breaking waves", "Adrift", "Mayday", "-17.7134, 178.0650"),
    ("plotter screen went black but we are safe and know the way, just so you know", "Lost Navigation", "Securité", "56.1629N, 10.2039E"),
    ("compass and gps both gone, fog everywhere, please help us find the harbour", "Lost Navigation", "PAN-PAN", "48.6500N, 2.0167W"),
    ("lost the gps signal, no idea where we are and fuel almost empty", "Lost Navigation", "PAN-PAN", "29.9511N, 90.0715W"),
    ("all good now, the fire is out and nobody is hurt", None, "Good to hear everyone is safe. I am here if anything else happens.", "39.1120N, 2.9841E"),
    ("what channel should i use to call the marina?", None, "I cannot look that up here; the marina's channel is in your pilot book or on its website. I am here if an emergency happens.", "45.8150N, 15.9819E"),
    ("hello, is this thing on? just testing the app before we leave", None, "Hello, it works. I am here if an emergency happens on board.", "41.9028N, 12.4964E"),
    ("is it going to rain later?", None, "I have no forecast here; listen to the coastguard's VHF weather broadcast. I am here if an emergency happens.", "52.3676N, 4.9041E"),
    ("false alarm, the smell was just the toaster, sorry", None, "No problem, glad it was nothing. I am here if an emergency happens.", "36.7213N, 4.4214W"),
]

if __name__ == "__main__":
    make_csv.write("fresh.csv", FRESH)
