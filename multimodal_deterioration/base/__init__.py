"""The shared base: settings, command-line helpers, atomic artifacts, errors, devices, the worker
pool, ids and timestamps. Imports nothing else of the package.
"""
