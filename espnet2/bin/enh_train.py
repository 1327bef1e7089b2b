#!/usr/bin/env python3
"""Train a speech separation model (ESPnet's `python -m espnet2.bin.enh_train`).

    # stats stage: shape files for the batch samplers
    python -m espnet2.bin.enh_train --collect_stats true --config conf/train.yaml \\
        --train_data_path_and_name_and_type dump/raw/tr/wav.scp,speech_mix,sound \\
        --train_data_path_and_name_and_type dump/raw/tr/spk1.scp,speech_ref1,sound ... \\
        --output_dir exp/enh_stats_8k
    # training (resumable; --ngpu 0 trains on CPU)
    python -m espnet2.bin.enh_train --config conf/train.yaml --output_dir exp/enh_train --resume true \\
        --train_shape_file exp/enh_stats_8k/train/speech_mix_shape ... --ngpu 1
    # several GPUs / nodes
    torchrun --nproc_per_node 4 -m espnet2.bin.enh_train --ngpu 1 ...
    # the resolved config
    python -m espnet2.bin.enh_train --config conf/train.yaml --print_config
"""

from espnet2.tasks.enh import EnhancementTask


def get_parser():
    return EnhancementTask.get_parser()


def main(cmd=None):
    r"""Enhancement training.

    Example:
        % python -m espnet2.bin.enh_train --print_config --optim adadelta \
                > conf/train_enh.yaml
        % python -m espnet2.bin.enh_train --config conf/train_enh.yaml
    """
    EnhancementTask.main(cmd=cmd)


if __name__ == "__main__":
    main()
