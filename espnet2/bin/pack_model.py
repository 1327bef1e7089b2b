#!/usr/bin/env python3
"""Pack a trained model for sharing, as ESPnet's ``espnet2.bin.pack`` does (stage 9 of enh.sh).

The zip holds the training config, the model ``.pth`` and ``meta.yaml``::

    meta.yaml                      files: {model_file: ...}, yaml_files: {train_config: ...},
                                   timestamp, python, torch, tisdiss versions
    exp/enh_train_xxx/config.yaml
    exp/enh_train_xxx/valid.loss.ave_5best.pth
    exp/enh_train_xxx/RESULTS.md   (and whatever else is given with --option)

Example::

    python -m espnet2.bin.pack_model enh \\
        --train_config exp/enh_train_xxx/config.yaml \\
        --model_file exp/enh_train_xxx/valid.loss.ave_5best.pth \\
        --option exp/enh_train_xxx/RESULTS.md \\
        --outpath exp/enh_train_xxx/packed_model.zip

The packing itself is ``espnet2.main_funcs.pack_funcs`` (``pack_model``, ``unpack_model``).
"""

import argparse

from espnet2.main_funcs.pack_funcs import pack_model


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Pack config.yaml + model .pth (+ files) into a zip for sharing",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("task", nargs="?", default="enh", choices=["enh"], help="ESPnet task name (only enh)")
    parser.add_argument("--train_config", required=True, help="The training config.yaml")
    parser.add_argument("--model_file", required=True, help="The model .pth")
    parser.add_argument("--option", action="append", default=[], help="Another file or folder to include (repeatable)")
    parser.add_argument("--outpath", required=True, help="The zip to write")
    return parser


def main(cmd=None):
    args = get_parser().parse_args(cmd)
    out = pack_model(args.train_config, args.model_file, args.outpath, args.option)
    print(f"Packed {args.model_file} with {args.train_config} into {out}")


if __name__ == "__main__":
    main()
