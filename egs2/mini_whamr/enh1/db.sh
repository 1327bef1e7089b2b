# Where the corpora live. mini_whamr is made from the mini_2mix corpus, which is in the repository
# (egs2/mini_2mix/enh1/corpus, with its lists corpus/lists/mix_2_spk_{tr,cv,tt}.txt); the path is taken from
# where this file is, so that a copy of the recipe elsewhere (linking this file) finds it too.
MINI_2MIX=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)/../../mini_2mix/enh1/corpus
