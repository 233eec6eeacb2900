"""Regenerate the bundled sample (or a larger one for benchmarks).

    python sample_data/generate.py                       # the committed files
    python sample_data/generate.py --scale 50 --events-per-user 20 --out /tmp/persona-1m   # 1M users, 20M events
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from segcore.sample import SAMPLE_DIR, write_sample  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 20,000 users (default)")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--events-per-user", type=float, default=None,
                        help="mean events per user (default: about 53, as in the committed sample)")
    parser.add_argument("--out", type=Path, default=SAMPLE_DIR)
    args = parser.parse_args()
    for role, path in write_sample(args.out, scale=args.scale, seed=args.seed,
                                           events_per_user=args.events_per_user).items():
        print(f"{role}: {path}")
