import sys
from pathlib import Path

import torch

# `from test.golden import ...` works from any working directory
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# one thread per test process: the suite runs on small shared CI machines, where oversubscribed
# threads make tiny models many times slower
torch.set_num_threads(1)
