"""Seeded STAC items for `cargo xtask bench stac`: the stac-spec v1.1.0
extended item (the recipe of the reference, section 8), cycled with unique ids,
random microsecond datetimes, random cloud cover and a shifted footprint.

usage: python stac_gen.py TEMPLATE.json OUT.ndjson N [SEED]
"""

import json
import random
import sys


def shift(coords, dx, dy):
    if isinstance(coords[0], (int, float)):
        return [round(coords[0] + dx, 7), round(coords[1] + dy, 7)] + coords[2:]
    return [shift(c, dx, dy) for c in coords]


def main():
    template_path, out_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 42)
    with open(template_path) as f:
        template = json.load(f)
    base_id = template["id"]
    with open(out_path, "w") as out:
        for i in range(n):
            item = json.loads(json.dumps(template))
            item["id"] = f"{base_id}-{i:07d}"
            dx, dy = rng.uniform(-170.0, 5.0), rng.uniform(-60.0, 60.0)
            item["geometry"]["coordinates"] = shift(item["geometry"]["coordinates"], dx, dy)
            b = item["bbox"]
            item["bbox"] = [round(b[0] + dx, 7), round(b[1] + dy, 7), round(b[2] + dx, 7), round(b[3] + dy, 7)]
            secs = rng.randrange(1_420_070_400, 1_735_689_600)
            micros = rng.randrange(0, 1_000_000)
            import datetime as _dt
            t = _dt.datetime.fromtimestamp(secs, _dt.timezone.utc).replace(microsecond=micros)
            item["properties"]["datetime"] = t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            item["properties"]["eo:cloud_cover"] = round(rng.uniform(0, 100), 2)
            out.write(json.dumps(item, separators=(",", ":")))
            out.write("\n")


if __name__ == "__main__":
    main()
