"""Preparation: notes, vitals, linkage, pairing, text, vocabulary, features, embeddings, the demo
data and the preparation run that writes ``multimodal_data.npz``. Imports the base and the
contract.
"""
