# Where the corpora live. Set WSJ0 to the root of your copy of LDC93S6A (CSR-I WSJ0): the
# directory that holds the disc folders (11-1.1, ...) or the "wsj0" folder; the .wv1 files
# are found wherever they are below it.
WSJ0=
