#!/usr/bin/env python3
"""Separate audio files with a trained model; see `./separate.py --help`.

Same as the installed `tisdiss-separate` command (espnet2/bin/separate.py), e.g.

    ./separate.py --model_path exp/enh_train_xxx/valid.loss.ave_5best.pth mixture.wav -o separated/
"""

import sys

from espnet2.bin.separate import main

if __name__ == "__main__":
    sys.exit(main())
