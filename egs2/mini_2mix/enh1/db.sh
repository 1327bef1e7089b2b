# Where the corpora live. mini_2mix is in the repository: corpus/ (made by local/make_corpus.py).
MINI_2MIX=corpus
