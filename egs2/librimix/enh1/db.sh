# Where the corpora live (read by local/data.sh).
# LIBRISPEECH: the LibriSpeech root (openslr.org/12), holding train-clean-100/, train-clean-360/,
# dev-clean/ and test-clean/ (those of the subsets you make).
LIBRISPEECH=
# WHAM_NOISE: the WHAM! noise root (wham_noise/ with tr/, cv/, tt/; wham.whisper.ai), only for --mix both.
WHAM_NOISE=
# LIBRIMIX: a Libri2Mix made elsewhere (the folder with wav8k/, wav16k/, e.g. by LibriMix's
# generate_librimix.sh): local/data.sh then only writes the data directories for it.
LIBRIMIX=
