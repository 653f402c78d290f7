# Random GPS positions in the notations a boat's plotter or a crew may give: decimal degrees with
# hemisphere letters ("41.6259S, 12.5405W"), signed decimal degrees ("-45.7358, 94.5890"), degrees and
# decimal minutes ("57°18.4'S 10°35.3'W") and the plotter's spaced form ("N 54 19.2 W 4 24.7").
# Every example gets a position of its own so that a model trained on them learns to copy the position
# from the system message: with a handful of positions repeated across rows it learns to recall them.
import random


def _hemisphere(value, positive, negative):
    return positive if value >= 0 else negative


def _degrees_minutes(value):
    value = abs(value)
    degrees = int(value)
    minutes = round((value - degrees) * 60, 1)
    if minutes >= 60.0:
        degrees, minutes = degrees + 1, 0.0
    return degrees, minutes


def format_position(lat, lon, notation):
    ns, ew = _hemisphere(lat, "N", "S"), _hemisphere(lon, "E", "W")
    if notation == "hemisphere":
        return f"{abs(lat):.4f}{ns}, {abs(lon):.4f}{ew}"
    if notation == "signed":
        return f"{lat:.4f}, {lon:.4f}"
    (lat_d, lat_m), (lon_d, lon_m) = _degrees_minutes(lat), _degrees_minutes(lon)
    if notation == "minutes":
        return f"{lat_d}°{lat_m:04.1f}'{ns} {lon_d}°{lon_m:04.1f}'{ew}"
    if notation == "plotter":
        return f"{ns} {lat_d} {lat_m:04.1f} {ew} {lon_d} {lon_m:04.1f}"
    raise ValueError(f"unknown notation {notation!r}")


NOTATIONS = ["hemisphere"] * 5 + ["signed"] * 2 + ["minutes"] * 2 + ["plotter"]


def random_position(rng: random.Random) -> str:
    """A random position within the latitudes a yacht may sail (|lat| <= 70), in a random notation."""
    lat = rng.uniform(-70.0, 70.0)
    lon = rng.uniform(-180.0, 180.0)
    return format_position(lat, lon, rng.choice(NOTATIONS))


if __name__ == "__main__":
    rng = random.Random(1)
    for _ in range(12):
        print(random_position(rng))
