"""Do clinical notes add predictive value to vital signs for deterioration prediction?

The package behind ``download_and_prepare_clinical_notes.py`` and ``train_multimodal_lstm.py``.
Data flows one way: notes -> features/embeddings -> pairing -> ``multimodal_data.npz`` ->
training -> evaluation -> artifacts.
"""

__version__ = "0.1.0"
