"""Patient and stay ids as text, in one spelling on both sides of a link.

Ids are compared as strings. Tables saved through pandas often turn an integer id column that
has a blank into floats, so the same stay is ``123`` in one file and ``123.0`` in another; both
become ``"123"`` here. Other spellings (leading zeros, letters) are kept exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_INTEGRAL_FLOAT_TEXT = r"^(-?\d+)\.0+$"


def ids_as_text(values) -> np.ndarray:
    """Ids as an object array of str, None where an id is missing.

    >>> ids_as_text([123.0, None, 7.0]).tolist()
    ['123', None, '7']
    >>> ids_as_text(["00123", "123.0", "A-1"]).tolist()
    ['00123', '123', 'A-1']
    """
    series = pd.Series(values)
    if pd.api.types.is_float_dtype(series.dtype):
        present = series.dropna()
        if np.isfinite(present).all() and (present == np.floor(present)).all():
            series = series.astype("Int64")
    text = series.astype("string").str.replace(_INTEGRAL_FLOAT_TEXT, r"\1", regex=True)
    return text.astype(object).where(text.notna(), None).to_numpy(dtype=object)
