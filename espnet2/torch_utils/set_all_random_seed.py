import random

import numpy as np
import torch


def set_all_random_seed(seed: int):
    """Seed Python, numpy and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.random.manual_seed(seed)
