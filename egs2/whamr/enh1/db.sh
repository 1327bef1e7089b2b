# Where the corpora live (read by local/data.sh).
# WSJ0: the root of your copy of LDC93S6A (CSR-I WSJ0), the directory that holds the disc folders (11-1.1, ...)
# or the "wsj0" folder; the .wv1 files are found wherever they are below it.
WSJ0=
# WHAM_NOISE: the WHAM! noise root (wham_noise/ with tr/, cv/, tt/ and metadata/; wham.whisper.ai).
WHAM_NOISE=
# WHAMR: a WHAMR! made elsewhere (the folder with wav8k/, wav16k/, e.g. by the WHAMR! scripts'
# create_wham_from_scratch.py): local/data.sh then only writes the data directories for it.
WHAMR=
