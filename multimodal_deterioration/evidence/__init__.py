"""Evidence: metrics, bootstrap, comparisons over seeds, the verdict, recalibration, the decision
curve, redrawn splits, the results and their schema, the report, tables, figures and the study
run. Imports the base, the contract and learning.
"""
