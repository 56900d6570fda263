"""Where the demo happens: Abidjan. The demo data's pickups and drop-offs (`seed_demo`) and its
drivers' positions (`dispatch_simulate`) stay inside the city's box, around the Plateau."""

from __future__ import annotations

import math
import random

CENTRE = (5.32, -4.02)  # the Plateau
LAT, LNG = (5.25, 5.45), (-4.10, -3.90)  # the city, from Yopougon to Cocody
STEP_KM = 0.06  # how far a simulated driver moves between two reports (4 s at about 50 km/h)


def home(driver_id: int) -> tuple[float, float]:
    """Where a driver starts: within about 7 km of the centre, the same for a driver every run."""
    rng = random.Random(driver_id)
    bearing, km = rng.uniform(0, 2 * math.pi), 7 * math.sqrt(rng.random())
    lat = CENTRE[0] + km * math.cos(bearing) / 111.2
    lng = CENTRE[1] + km * math.sin(bearing) / (111.2 * math.cos(math.radians(CENTRE[0])))
    return _inside(lat, lng)


def step(rng: random.Random, lat: float, lng: float) -> tuple[float, float]:
    """A few tens of metres in a random direction, staying in the city."""
    bearing = rng.uniform(0, 2 * math.pi)
    lat += STEP_KM * math.cos(bearing) / 111.2
    lng += STEP_KM * math.sin(bearing) / (111.2 * math.cos(math.radians(lat)))
    return _inside(lat, lng)


def _inside(lat: float, lng: float) -> tuple[float, float]:
    return round(min(max(lat, LAT[0]), LAT[1]), 6), round(min(max(lng, LNG[0]), LNG[1]), 6)
