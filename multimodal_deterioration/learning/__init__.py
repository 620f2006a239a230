"""Learning: the model, the training loop, the experiment (variants, controls, seeds) and the
checkpoint with the calibrator it applies. Imports the base and the contract.
"""
