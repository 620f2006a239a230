"""The contract between the two scripts: ``multimodal_data.npz``, its arrays, ``meta``, loading,
saving and checks. Data only; imports the base alone.
"""
